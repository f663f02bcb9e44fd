/**
 * The one step runner under every command that changes a server. It runs the
 * plan's steps in order (each applies its change through RunChanges, which
 * journals before it acts, then proves it on the real server), checks for a
 * stop request between actions, and on any failure or signal undoes the run
 * in reverse through the one undo path. Steps never print: they report
 * through the view's events, and return their status.
 */
import type { Client } from '../server/connect.js';
import type { ConnectionTarget } from '../server/connectionTarget.js';
import type { EnableView } from '../ui/enableView.js';
import type { RunChanges } from './changes.js';
import type { Journal } from './journal.js';
import type { StepId, StepStatus } from './report.js';
import type { StopWatch } from './signals.js';
import { undoJournal, type UndoResult } from './undo.js';
import { onlineUndoServer } from './undoServers.js';

export interface StepIO {
  client: Client;
  target: ConnectionTarget;
  changes: RunChanges;
  view: EnableView;
  /** Throws when a stop was asked for (call it between actions). */
  checkpoint(): void;
}

export interface Step {
  id: StepId;
  title: string;
  /** Applies and proves the step; throws to stop the run (it is then undone). */
  run(io: StepIO): Promise<'done' | 'already-done' | 'skipped'>;
}

export interface RunResult {
  statuses: Partial<Record<StepId, StepStatus>>;
  journal?: Journal;
  undone?: UndoResult;
  /** What stopped the run (it was undone, or kept when the DBA chose so). */
  failure?: unknown;
  kept?: boolean;
}

export interface RunOptions {
  client: Client;
  target: ConnectionTarget;
  changes: RunChanges;
  view: EnableView;
  stop: StopWatch;
  dataDirectory: string;
  /** Step numbers shown to the DBA: the plan's steps come after these. */
  numbering: { first: number; total: number };
  /** After a failure or stop with changes made: undo them? (the wizard may ask on Ctrl-C) */
  shouldUndo(error: unknown): Promise<boolean>;
}

export async function runPlan(steps: Step[], options: RunOptions): Promise<RunResult> {
  const result: RunResult = { statuses: {} };
  const io: StepIO = { client: options.client, target: options.target, changes: options.changes, view: options.view, checkpoint: () => options.stop.checkpoint() };
  let current: Step | undefined;
  try {
    for (const [index, step] of steps.entries()) {
      current = step;
      options.stop.checkpoint();
      options.view.step(options.numbering.first + index, options.numbering.total, step.title);
      result.statuses[step.id] = await step.run(io);
    }
    current = undefined;
    options.changes.journal?.setStatus('applied');
    result.journal = options.changes.journal;
    return result;
  } catch (error) {
    if (current) result.statuses[current.id] = 'failed';
    result.failure = error;
    result.journal = options.changes.journal;
    const journal = options.changes.journal;
    if (journal?.changed && (await options.shouldUndo(error))) {
      options.stop.holdOff();
      options.view.warn('undoing the changes made so far, in reverse order');
      result.undone = await undoJournal(journal, onlineUndoServer(options.client, options.target, options.dataDirectory), { resolution: 'merge', finalStatus: 'undone' });
      reportUndo(result.undone, options.view);
      for (const [id, status] of Object.entries(result.statuses)) if (status === 'done') result.statuses[id as StepId] = 'undone';
    } else if (journal?.changed) {
      journal.note('stopped by the user after changes; kept as they are');
      journal.setStatus('applied');
      result.kept = true;
      options.view.warn(`kept the changes made so far; pgssl rollback undoes them (journal ${journal.path})`);
    } else {
      journal?.setStatus('undone');
    }
    return result;
  }
}

export function reportUndo(undone: UndoResult, view: EnableView): void {
  for (const path of undone.restored) view.ok(`restored ${path}`);
  for (const path of undone.removed) view.ok(`removed ${path}`);
  for (const setting of undone.settings) view.ok(`ALTER SYSTEM ${setting.startsWith('RESET') ? setting : `SET ${setting}`}`);
  for (const kept of undone.kept) view.warn(`kept ${kept}`);
  for (const failure of undone.failures) view.fail(`could not undo: ${failure}`);
  for (const problem of undone.restartProblems) view.fail(`the server would not restart: ${problem}`);
}
