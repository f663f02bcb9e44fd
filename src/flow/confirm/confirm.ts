/**
 * `pgssl confirm`'s core: the pending run of this server is marked confirmed
 * and its watchdog stopped. The login it needs is the proof: a new session
 * got in after the change. Refuses (exit 1, nothing changed) when the window
 * has closed: the run is being, or has been, reverted.
 */
import { hostname, userInfo } from 'node:os';
import { ExitCode, OperationalError } from '../../errors.js';
import { takeRunLock } from '../../server/advisoryLock.js';
import type { Client } from '../../server/connect.js';
import { journalsOf, type ConfirmWindow } from '../journal.js';
import type { ReportedError } from '../report.js';
import { rollbackState } from '../rollback.js';
import { stopWatchdog, watchdogAlive } from './watchdog.js';
import { currentBootId, secondsLeft, windowVerdict } from './window.js';

export interface ConfirmReport {
  pgssl: { command: 'confirm'; reportVersion: 1 };
  ok: boolean;
  /** True when a pending run was confirmed now (its journal updated, its watchdog stopped). */
  changed: boolean;
  outcome?: 'confirmed' | 'nothing-pending' | 'already-confirmed';
  journal?: string;
  window?: ConfirmWindow;
  exitCode: number;
  error?: ReportedError;
  message?: string;
}

export function emptyConfirmReport(): ConfirmReport {
  return { pgssl: { command: 'confirm', reportVersion: 1 }, ok: false, changed: false, exitCode: ExitCode.ok };
}

/** Confirms this server's pending run; throws OperationalError (nothing changed) when its window closed or it never finished. */
export async function confirmPendingRun(client: Client, now = new Date()): Promise<ConfirmReport> {
  const { rows } = await client.query(
    `SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, current_setting('data_directory') AS data_directory, current_setting('port')::int AS port, current_user AS role`,
  );
  // A revert under way holds the lock: confirm then waits for nobody and says so (takeRunLock's message).
  await takeRunLock(client);
  const server = { systemIdentifier: rows[0].id as string, dataDirectory: rows[0].data_directory as string, port: rows[0].port as number };
  const state = rollbackState(server.dataDirectory);
  const journal = journalsOf(state.dir, server, state.owner).at(-1);
  const report = emptyConfirmReport();
  const window = journal?.data.confirm;
  if (!journal || !window) {
    report.outcome = 'nothing-pending';
    report.message = `nothing to confirm: the last pgssl run on this server (${journal ? journal.path : `none in ${state.dir}`}) was not started with --confirm-within`;
    return { ...report, ok: true };
  }
  report.journal = journal.path;
  report.window = window;
  if (window.state === 'confirmed') {
    report.outcome = 'already-confirmed';
    report.message = `nothing to confirm: the run in ${journal.path} was already confirmed at ${window.settledAt}`;
    return { ...report, ok: true };
  }
  const { status } = journal.data;
  if (window.state !== 'pending' || status === 'undone' || status === 'rolled-back') {
    throw new OperationalError(
      `the run in ${journal.path} cannot be confirmed: it was reverted${window.settledAt ? ` at ${window.settledAt}` : ''} (${window.reason ?? `its journal says ${status}`}); nothing was changed. Its changes are no longer in force: run pgssl enable again to apply them.`,
    );
  }
  const verdict = windowVerdict(window, now, currentBootId());
  if (verdict !== 'open') {
    const reverter = window.watchdog && watchdogAlive(window.watchdog, journal.path) ? `its watchdog (${window.watchdog.kind === 'systemd' ? window.watchdog.unit : `pid ${window.watchdog.pid}`}) is reverting it` : 'its watchdog is gone: pgssl status or the next pgssl command reverts it (or pgssl rollback, now)';
    throw new OperationalError(
      `too late to confirm the run in ${journal.path}: ${verdict === 'rebooted' ? `the host rebooted inside its window (deadline ${window.deadline})` : `its deadline ${window.deadline} has passed`}, so ${reverter}; nothing was changed. Run pgssl enable again (with --confirm-within) once you know the clients get in.`,
    );
  }
  if (status !== 'applied') {
    throw new OperationalError(
      `the run in ${journal.path} did not finish (its journal says ${status}; pid ${journal.data.pid} ended before the end of the run), so there is nothing whole to confirm; nothing was changed. It is reverted at ${window.deadline}, or now with pgssl rollback.`,
    );
  }
  const who = `${rows[0].role}@${hostname()} (OS user ${userInfo().username})`;
  // Confirmed first, then the watchdog stopped: a watchdog that wakes in between reads "confirmed" and leaves.
  const reloaded = journal.data.confirm!;
  journal.setConfirm({ ...reloaded, state: 'confirmed', settledAt: now.toISOString(), reason: `confirmed by pgssl confirm as ${who}, ${secondsLeft(window, now)} s before the deadline` });
  stopWatchdog(window.watchdog, journal.path);
  journal.note(`confirmed by ${who}`);
  return { ...report, ok: true, changed: true, outcome: 'confirmed', window: journal.data.confirm, message: `confirmed: the run in ${journal.path} is kept; its watchdog is stopped` };
}
