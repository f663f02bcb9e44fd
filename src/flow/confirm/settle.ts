/**
 * What every pgssl command (settleUnfinishedRuns) and `pgssl status` do first
 * about confirm windows: one that closed unconfirmed (its deadline passed, or
 * the host rebooted inside it) and whose watchdog did not revert it — killed,
 * or gone with the reboot — is reverted now, without asking (the DBA asked
 * for exactly that when they set the deadline). One still open is reported.
 */
import type { Client } from '../../server/connect.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import type { FileOwner } from '../../files/owner.js';
import { journalsOf, type ServerIdentity } from '../journal.js';
import { revertUnconfirmed, type Reverted } from './revert.js';
import { watchdogAlive, type Watchdog } from './watchdog.js';
import { currentBootId, isAwaitingConfirmation, revertReason, secondsLeft, windowVerdict } from './window.js';

export interface ConfirmWindows {
  /** Open windows: the run is kept only if someone confirms it in time. */
  pending: { journal: string; deadline: string; secondsLeft: number; watchdog?: Watchdog; watchdogAlive: boolean }[];
  /** Closed unconfirmed, and reverted just now. */
  reverted: Reverted[];
  /** Closed unconfirmed and not reverted here: why not. */
  mustRevert: { journal: string; reason: string; why: string }[];
}

export interface ConfirmWindowContext {
  stateDir: string;
  owner: FileOwner | undefined;
  server: ServerIdentity;
  client: Client;
  target: ConnectionTarget;
  dataDirectory: string;
  /** true: revert closed windows (the caller holds the run lock); a reason: only report them. */
  mayRevert: true | string;
  now?: Date;
}

/** Reverts closed unconfirmed windows of this server when allowed (changes the server then); reports the rest. */
export async function settleConfirmWindows(context: ConfirmWindowContext): Promise<ConfirmWindows> {
  const now = context.now ?? new Date();
  const bootId = currentBootId();
  const result: ConfirmWindows = { pending: [], reverted: [], mustRevert: [] };
  for (const journal of journalsOf(context.stateDir, context.server, context.owner).filter(isAwaitingConfirmation)) {
    const window = journal.data.confirm!;
    const verdict = windowVerdict(window, now, bootId);
    if (verdict === 'open') {
      result.pending.push({ journal: journal.path, deadline: window.deadline, secondsLeft: secondsLeft(window, now), watchdog: window.watchdog, watchdogAlive: window.watchdog ? watchdogAlive(window.watchdog, journal.path) : false });
      continue;
    }
    const reason = revertReason(verdict, window);
    if (context.mayRevert !== true) {
      result.mustRevert.push({ journal: journal.path, reason, why: context.mayRevert });
      continue;
    }
    const reverted = await revertUnconfirmed(journal.path, context.client, context.target, context.dataDirectory, reason, now);
    if (reverted) result.reverted.push(reverted);
  }
  return result;
}
