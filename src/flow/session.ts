/**
 * The resources every command that changes a server holds for its run: the
 * admin session (which also holds the run lock), and the stop watch for
 * SIGINT/SIGTERM/SIGHUP. Opened, handed to the work, always released: the
 * lock first and explicitly, so the session closes without holding exit up.
 */
import { closeAtExit, openClient, settleClosing, type Client } from '../server/connect.js';
import type { ConnectionTarget } from '../server/connectionTarget.js';
import type { EnableView } from '../ui/enableView.js';
import { watchStopSignals, type StopWatch } from './signals.js';

/** An open run session, as withRunSession hands it to the work. */
export interface RunSession {
  client: Client;
  stop: StopWatch;
}

export async function withRunSession<T>(target: ConnectionTarget, view: EnableView, work: (client: Client, stop: StopWatch) => Promise<T>): Promise<T> {
  let client: Client | undefined;
  let stop: StopWatch | undefined;
  try {
    // Until the session is open nothing has changed: a signal then (at a password prompt, say) ends pgssl at once.
    client = await openClient(target);
    client.on('error', () => undefined);
    stop = watchStopSignals((signal, duringUndo) => view.warn(duringUndo ? `${signal}: the undo goes on to the end, so that nothing is left half-way` : `${signal}: stopping after the current action`));
    return await work(client, stop);
  } finally {
    stop?.release();
    if (client) {
      // Probe sessions still closing must not outlive the run, nor count as live sessions.
      await settleClosing();
      await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      closeAtExit(client);
    }
  }
}
