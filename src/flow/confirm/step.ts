/**
 * enable's enforcement step inside a confirm window: before its first change
 * (the pg_hba.conf rewrite and reload, the one that can cut the DBA's own
 * path), the journal gets the pending window with its deadline, durably, and
 * the watchdog that reverts the run at the deadline is started and recorded.
 * A kill -9 right after the reload therefore still ends in a revert.
 */
import type { Client } from '../../server/connect.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import type { EnableReport } from '../report.js';
import type { Step } from '../runner.js';
import { startWatchdog } from './watchdog.js';
import { currentBootId, openWindow } from './window.js';

export const confirmHow = 'pgssl confirm (from a new session: it proves you still get in)';

export function withConfirmWindow(enforce: Step, seconds: number | undefined, willChangeHba: boolean, report: EnableReport): Step {
  if (seconds === undefined) return enforce;
  return {
    ...enforce,
    async run(io) {
      if (!willChangeHba) {
        io.view.detail('--confirm-within: pg_hba.conf needs no change, so there is nothing to confirm');
        return enforce.run(io);
      }
      io.checkpoint();
      const journal = io.changes.journalForRecord();
      const window = openWindow(seconds, new Date(), currentBootId());
      // Durable first: if pgssl dies before the watchdog is recorded, the next command still sees the deadline.
      journal.setConfirm(window);
      const watchdog = startWatchdog(journal.path, window, watchdogTarget(io.client, io.target));
      journal.setConfirm({ ...window, watchdog });
      report.confirm = { state: 'pending', deadline: window.deadline, seconds, watchdog, how: confirmHow };
      io.view.ok(`confirm window open until ${window.deadline} (${seconds} s): without ${confirmHow} the whole run is reverted then (watchdog: ${watchdog.kind === 'systemd' ? `systemd unit ${watchdog.unit}` : `process ${watchdog.pid}`})`);
      return enforce.run(io);
    },
  };
}

/**
 * The watchdog logs in as this run did, without a terminal to ask on: a
 * password typed at -W (pg keeps what its password callback returned) goes
 * with it, through its environment.
 */
function watchdogTarget(client: Client, target: ConnectionTarget): ConnectionTarget {
  const typed = (client as unknown as { password?: unknown }).password;
  return { ...target, password: typeof typed === 'string' ? typed : target.password, promptPassword: 'never' };
}
