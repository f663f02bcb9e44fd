/**
 * The wizard's end when the run has a confirm window: a countdown on the
 * terminal, Enter confirms (the same confirmation as `pgssl confirm`, in a
 * new session: a login that fails is an answer too). Nobody at the
 * terminal — the ssh session dropped, Ctrl-C, the time ran out — and the
 * watchdog reverts the run at the deadline; this only waits to say so.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../../errors.js';
import type { EnableView } from '../../ui/enableView.js';
import { Journal } from '../journal.js';
import type { ConfirmReport } from './confirm.js';

export type CountdownEnd = 'confirmed' | 'reverted' | 'left-pending';

export async function countdownToDeadline(journalPath: string, deadline: string, out: NodeJS.WriteStream, view: EnableView, confirm: () => Promise<ConfirmReport>): Promise<CountdownEnd> {
  const input = createInterface({ input: process.stdin });
  const end = Date.parse(deadline);
  let lineWaiter: (() => void) | undefined;
  input.on('line', () => lineWaiter?.());
  const nextEnter = () => new Promise<'enter'>((resolve) => (lineWaiter = () => resolve('enter')));
  let onInterrupt: (() => void) | undefined;
  const interrupted = new Promise<'interrupt'>((resolve) => (onInterrupt = () => resolve('interrupt')));
  process.once('SIGINT', onInterrupt!);
  const stopWaiting = new AbortController();
  const deadlineReached = sleep(Math.max(0, end - Date.now()), 'deadline' as const, { signal: stopWaiting.signal }).catch(() => 'aborted' as const);
  const tick = () => {
    const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    out.write(`\r  Press Enter to keep these changes (as pgssl confirm does); reverted by itself in ${String(left).padStart(4)} s `);
  };
  tick();
  const timer = setInterval(tick, 1000);
  try {
    for (;;) {
      const outcome = await Promise.race([nextEnter(), interrupted, deadlineReached]);
      out.write('\n');
      if (outcome === 'interrupt') {
        view.warn(`not confirmed: the watchdog reverts the whole run at ${deadline} (pgssl confirm, from a new session, still keeps it until then)`);
        return 'left-pending';
      }
      if (outcome === 'enter') {
        try {
          const report = await confirm();
          view.ok(report.message ?? 'confirmed');
          return 'confirmed';
        } catch (error) {
          view.fail(`could not confirm: ${messageOf(error)}`);
          if (Date.now() < end) continue;
        }
      }
      clearInterval(timer);
      view.warn('not confirmed in time: the watchdog reverts the whole run now');
      return (await revertSeen(journalPath)) ? 'reverted' : 'left-pending';
    }
  } finally {
    clearInterval(timer);
    stopWaiting.abort();
    process.off('SIGINT', onInterrupt!);
    input.close();
  }
}

/** Waits (generously) for the watchdog's verdict in the journal. */
async function revertSeen(journalPath: string): Promise<boolean> {
  for (let i = 0; i < 120; i++) {
    const state = Journal.load(journalPath).data.confirm?.state;
    if (state === 'reverted') return true;
    if (state !== 'pending') return false;
    await sleep(1000);
  }
  return false;
}
