/**
 * The watchdog's own work (`pgssl confirm-deadline`, started by watchdog.ts):
 * wait until the window's deadline, then revert the run unless it was
 * confirmed meanwhile. It logs in as the run did (the connection handed over
 * in its environment), checks that it talks to the same server the journal
 * names, waits for the run lock (enable may still be finishing), and reverts
 * through revert.ts. It has no terminal: what it did goes into the journal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf, OperationalError } from '../../errors.js';
import { dataDirectoryOwner } from '../../files/owner.js';
import { takeRunLock } from '../../server/advisoryLock.js';
import { withClient, type Client } from '../../server/connect.js';
import { resolveConnectionTarget, type ConnectionTarget } from '../../server/connectionTarget.js';
import { Journal } from '../journal.js';
import { revertUnconfirmed } from './revert.js';
import { watchdogTargetVariable } from './watchdog.js';
import { currentBootId, revertReason, windowVerdict } from './window.js';

/** How long the watchdog keeps trying to reach the server after the deadline (a restart, a full connection table). */
const retryForMs = 60 * 60 * 1000;

/** Exit 0: confirmed, gone, or reverted; 1: could not revert (noted in the journal). */
export async function watchDeadline(journalPath: string): Promise<number> {
  // Its own session already keeps the ssh session's SIGHUP away; a stray one must not end the watch either.
  process.on('SIGHUP', () => undefined);
  const target = handedTarget();
  const bootId = currentBootId();
  let reason: string;
  for (;;) {
    let journal: Journal;
    try {
      journal = Journal.load(journalPath);
    } catch {
      return 0; // the journal is gone (its state folder removed): nothing left to watch
    }
    const window = journal.data.confirm;
    if (!window || window.state !== 'pending') return 0;
    const verdict = windowVerdict(window, new Date(), bootId);
    if (verdict !== 'open') {
      reason = revertReason(verdict, window);
      break;
    }
    // Re-read every second: a confirm seen early lets the watchdog end early even if nobody stopped it.
    await sleep(Math.min(1000, Math.max(10, Date.parse(window.deadline) - Date.now())));
  }
  const giveUp = Date.now() + retryForMs;
  for (;;) {
    // Between attempts someone else may have reverted it, or the state folder may be gone: nothing left to do then.
    if (!stillPending(journalPath)) return 0;
    try {
      return await withClient(target, async (client) => {
        const dataDirectory = await sameServer(client, journalPath);
        await waitForRunLock(client);
        const reverted = await revertUnconfirmed(journalPath, client, target, dataDirectory, reason);
        return reverted && !reverted.ok ? 1 : 0;
      });
    } catch (error) {
      if (error instanceof WrongServer || Date.now() > giveUp) {
        noteFailure(journalPath, `the watchdog could not revert this run (${messageOf(error)}); pgssl status or the next pgssl command on this server reverts it, or pgssl rollback`);
        return 1;
      }
      await sleep(2000);
    }
  }
}

class WrongServer extends OperationalError {}

function stillPending(journalPath: string): boolean {
  try {
    return Journal.load(journalPath).data.confirm?.state === 'pending';
  } catch {
    return false;
  }
}

function handedTarget(): ConnectionTarget {
  const handed = process.env[watchdogTargetVariable];
  const target = handed ? (JSON.parse(handed) as ConnectionTarget) : resolveConnectionTarget({});
  return { ...target, promptPassword: 'never', applicationName: 'pgssl confirm watchdog' };
}

/** The port may belong to another server by now: revert only the one the journal names. */
async function sameServer(client: Client, journalPath: string): Promise<string> {
  const { server } = Journal.load(journalPath).data;
  const { rows } = await client.query(`SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, current_setting('data_directory') AS data_directory`);
  if (rows[0].id !== server.systemIdentifier || rows[0].data_directory !== server.dataDirectory) {
    throw new WrongServer(`the server it reached (system identifier ${rows[0].id}, ${rows[0].data_directory}) is not the one the journal names (${server.systemIdentifier}, ${server.dataDirectory})`);
  }
  return server.dataDirectory;
}

/** enable may still hold the lock (its last step, its report): wait for it rather than give up. */
async function waitForRunLock(client: Client): Promise<void> {
  for (;;) {
    try {
      await takeRunLock(client);
      return;
    } catch (error) {
      if (!(error instanceof OperationalError)) throw error;
      await sleep(1000);
    }
  }
}

function noteFailure(journalPath: string, text: string): void {
  try {
    const journal = Journal.load(journalPath);
    Journal.load(journalPath, dataDirectoryOwner(journal.data.server.dataDirectory)).note(text);
  } catch {
    // nowhere left to say it: the next command sees the window closed and pending
  }
}
