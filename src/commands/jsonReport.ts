/**
 * --json for the commands that change a server: exactly one document on
 * stdout for every outcome. A failure carries the run's own report when it
 * got that far; one before the run began gets the empty report with the
 * error and its exit code.
 */
import { ExitCode, PgsslError, reportedError } from '../errors.js';

export function printJsonReport(report: unknown): void {
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

export function printJsonFailure(error: unknown, empty: () => object): void {
  const attached = (error as { report?: object }).report;
  printJsonReport(attached ?? { ...empty(), exitCode: error instanceof PgsslError ? error.exitCode : ExitCode.operational, error: reportedError(error) });
}
