/**
 * Before a command changes a server: runs of pgssl that stopped half-way (a
 * kill -9, a lost machine, an undo that failed) must be dealt with first, or
 * a new run would stack on top of them and one rollback would no longer be
 * enough. The DBA is asked (`--yes` says undo); without an answer the command
 * stops before any change and names `pgssl rollback`.
 */
import { OperationalError } from '../errors.js';
import type { ServerStateDir } from '../files/stateDir.js';
import type { Client } from '../server/connect.js';
import type { ConnectionTarget } from '../server/connectionTarget.js';
import type { EnableView } from '../ui/enableView.js';
import type { Prompter } from '../ui/prompter.js';
import { isUnfinished, journalsOf, type Journal, type ServerIdentity } from './journal.js';
import { reportUndo } from './runner.js';
import { undoJournal } from './undo.js';
import { onlineUndoServer } from './undoServers.js';
import { settleConfirmWindows } from './confirm/settle.js';

export interface UnfinishedContext {
  state: ServerStateDir;
  server: ServerIdentity;
  client: Client;
  target: ConnectionTarget;
  dataDirectory: string;
  prompter: Prompter;
  yes: boolean;
  /** The flag that makes this run read-only (it then warns instead of undoing or reverting); undefined for a run that changes the server. */
  readOnly: '--dry-run' | '--check' | undefined;
  view: EnableView;
  command: string;
}

function describeUnfinished(journal: Journal): string {
  const { command, startedAt, pid, status, entries } = journal.data;
  const what = status === 'undo-failed' ? 'its undo failed' : status === 'undoing' ? 'it stopped while undoing' : `its process (pid ${pid}) ended before it finished`;
  return `an earlier pgssl ${command} (started ${startedAt}) stopped half-way: ${what}; ${entries.filter((e) => e.kind !== 'terminated').length} change(s) in ${journal.path}`;
}

/** Undoes unfinished runs of this server when allowed; returns the journals undone. Throws before any change otherwise. */
export async function settleUnfinishedRuns(context: UnfinishedContext): Promise<string[]> {
  const reverted = await settleClosedConfirmWindows(context);
  const unfinished = journalsOf(context.state.dir, context.server, context.state.owner).filter((j) => isUnfinished(j)).reverse();
  if (unfinished.length === 0) return reverted;
  const described = unfinished.map(describeUnfinished).join('; ');
  if (context.readOnly) {
    context.view.warn(`${described}. pgssl ${context.command} (without ${context.readOnly}) would undo it first, or run pgssl rollback.`);
    return [];
  }
  if (!context.prompter.interactive && !context.yes) {
    throw new OperationalError(`${described}. Nothing was changed: undo it first with pgssl rollback, or pass --yes to let pgssl ${context.command} undo it and go on.`);
  }
  const go = context.yes || (await context.prompter.confirm({ message: `${described}. Undo it now, then go on?`, flag: '--yes', default: true }));
  if (!go) throw new OperationalError(`${described}. Nothing was changed; pgssl rollback undoes it.`);
  const settled: string[] = [...reverted];
  for (const journal of unfinished) {
    context.view.warn(`undoing ${journal.path} first`);
    const undone = await undoJournal(journal, onlineUndoServer(context.client, context.target, context.dataDirectory), { resolution: 'stop', finalStatus: 'rolled-back' });
    reportUndo(undone, context.view);
    if (undone.stopped) {
      throw new OperationalError(
        `${describeUnfinished(journal)}, and some of its files or settings were changed since: ${undone.conflicts.map((c) => c.message).join('; ')}. Nothing was changed. Run pgssl rollback to see the differences and choose (--merge keeps the later edits, --force restores pgssl's backups).`,
      );
    }
    if (undone.failures.length > 0) throw new OperationalError(`could not undo ${journal.path}: ${undone.failures.join('; ')}`);
    settled.push(journal.path);
  }
  return settled;
}

/**
 * Confirm windows first (enable --confirm-within): one that closed
 * unconfirmed and was not reverted (its watchdog killed, or a reboot) is
 * reverted now, unasked: the DBA chose that outcome when they set the
 * deadline. One still open stops any other change: a run stacked on it would
 * be half-undone by its revert.
 */
async function settleClosedConfirmWindows(context: UnfinishedContext): Promise<string[]> {
  const windows = await settleConfirmWindows({
    stateDir: context.state.dir,
    owner: context.state.owner,
    server: context.server,
    client: context.client,
    target: context.target,
    dataDirectory: context.dataDirectory,
    mayRevert: context.readOnly ? `a run with ${context.readOnly} changes nothing` : true,
  });
  for (const closed of windows.mustRevert) context.view.warn(`${closed.journal}: ${closed.reason}; pgssl ${context.command} (without ${context.readOnly}) reverts it first`);
  for (const done of windows.reverted) {
    context.view.warn(`reverted ${done.journal}: ${done.reason}`);
    if (done.undo) reportUndo(done.undo, context.view);
    if (!done.ok) throw new OperationalError(`could not revert ${done.journal} (${done.reason}): ${done.undo?.failures.join('; ')}. pgssl rollback shows what is left.`);
  }
  const open = windows.pending[0];
  if (open) {
    const message = `the pgssl enable in ${open.journal} is waiting for confirmation until ${open.deadline} (${open.secondsLeft} s left)`;
    if (context.readOnly) context.view.warn(`${message}: pgssl ${context.command} (without ${context.readOnly}) would refuse to start until it is confirmed or reverted`);
    else throw new OperationalError(`${message}; nothing was changed. Run pgssl confirm to keep it, or wait until it is reverted at the deadline (pgssl rollback reverts it now), then run pgssl ${context.command} again.`);
  }
  return windows.reverted.map((r) => r.journal);
}
