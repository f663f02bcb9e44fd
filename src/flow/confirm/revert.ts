/**
 * Reverting a run whose confirm window closed unconfirmed: the whole run is
 * undone through the one undo path (as a failed run is: pgssl's own lines
 * taken back, later edits kept), and the journal says reverted and why.
 * Used by the watchdog at the deadline, and by the next pgssl command or
 * `pgssl status` when the watchdog did not (killed, or the host rebooted).
 * The caller holds the run lock.
 */
import type { Client } from '../../server/connect.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import { dataDirectoryOwner } from '../../files/owner.js';
import { Journal } from '../journal.js';
import { undoJournal, type UndoResult } from '../undo.js';
import { onlineUndoServer } from '../undoServers.js';
import { isAwaitingConfirmation } from './window.js';
import { stopWatchdog } from './watchdog.js';

export interface Reverted {
  journal: string;
  reason: string;
  /** Undefined when there was nothing left to undo (rolled back or undone meanwhile). */
  undo?: UndoResult;
  ok: boolean;
}

/**
 * Re-reads the journal (someone may have confirmed it meanwhile), undoes the
 * run and marks its window reverted (or revert-failed). Returns undefined when
 * it is no longer waiting for confirmation. Changes the server's files and
 * settings; never throws for what it could not undo (see `ok` and `undo`).
 */
export async function revertUnconfirmed(journalPath: string, client: Client, target: ConnectionTarget, dataDirectory: string, reason: string, now = new Date()): Promise<Reverted | undefined> {
  // Saved as the data directory's owner when root, as every write to the state folder is.
  const journal = Journal.load(journalPath, dataDirectoryOwner(dataDirectory));
  const window = journal.data.confirm;
  if (!window || window.state !== 'pending') return undefined;
  if (!isAwaitingConfirmation(journal)) {
    journal.setConfirm({ ...window, state: 'reverted', settledAt: now.toISOString(), reason: `${reason}; the run had already been undone (${journal.data.status})` });
    stopWatchdog(window.watchdog, journal.path);
    return { journal: journal.path, reason, ok: true };
  }
  const undo = await undoJournal(journal, onlineUndoServer(client, target, dataDirectory), { resolution: 'merge', finalStatus: 'undone' });
  const ok = undo.failures.length === 0;
  journal.setConfirm({ ...window, state: ok ? 'reverted' : 'revert-failed', settledAt: new Date().toISOString(), reason });
  journal.note(`${ok ? 'reverted' : 'revert failed'}: ${reason}`);
  stopWatchdog(window.watchdog, journal.path);
  return { journal: journal.path, reason, undo, ok };
}
