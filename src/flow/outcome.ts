/**
 * How a failed run ends, for every command on the engine: the error the DBA
 * sees says whether the changes were undone (and what could not be), and the
 * report (--json prints it before the message) carries the stable error id,
 * the exit code and whether the server was left changed.
 */
import { ExitCode, OperationalError, PgsslError, errorId, reportedError } from '../errors.js';
import { Cancelled } from '../ui/prompter.js';
import { VerificationFailed } from './enable/options.js';
import type { ReportedError, StepReport } from './report.js';
import type { UndoResult } from './undo.js';

export interface RunReportShape {
  steps: StepReport[];
  undone?: UndoResult;
  changed: boolean;
  exitCode: number;
  error?: ReportedError;
}

/** The error to throw, with `report` filled in and attached to it. */
export function failedRunError<R extends RunReportShape>(error: unknown, report: R, changed: boolean): unknown {
  if ((error as { report?: unknown }).report) return error;
  const failed = report.steps.find((s) => s.status === 'planned' && s.id !== 'report');
  if (failed && !(error instanceof Cancelled) && !report.steps.some((s) => s.status === 'failed')) failed.status = 'failed';
  const undone = report.undone;
  const notUndone = undone ? [...undone.failures, ...undone.restartProblems] : [];
  const final =
    error instanceof Cancelled
      ? new OperationalError(`${error.message}${undone ? (notUndone.length ? `; undone except: ${notUndone.join('; ')}` : '; every change was undone') : changed ? '; the changes made so far were kept (pgssl rollback undoes them)' : '; nothing was changed'}`)
      : error instanceof VerificationFailed && undone
        ? new VerificationFailed(`${error.message}. Every change was undone${notUndone.length ? ' except: ' + notUndone.join('; ') : ''}; the server is as it was.`)
        : error instanceof PgsslError && undone
          ? new PgsslError(`${error.message}. ${notUndone.length ? `Undone except: ${notUndone.join('; ')}` : 'Every change was undone; the server is as it was.'}`, error.exitCode, { hint: error.hint })
          : error;
  report.exitCode = final instanceof PgsslError ? final.exitCode : ExitCode.operational;
  // The id says what happened (a cancel stays CANCELLED); the message is the final one.
  report.error = { ...reportedError(final), id: errorId(error) };
  report.changed = changed && !(undone && undone.failures.length === 0 && undone.kept.length === 0);
  (final as { report?: R }).report = report;
  return final;
}
