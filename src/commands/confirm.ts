/**
 * `pgssl confirm`: keep the run started with `enable --confirm-within`, from
 * a new session (its login is the proof that the DBA still gets in); and the
 * hidden `pgssl confirm-deadline`, the watchdog that reverts it otherwise.
 */
import { confirmPendingRun, emptyConfirmReport, type ConfirmReport } from '../flow/confirm/confirm.js';
import { watchDeadline } from '../flow/confirm/deadline.js';
import { withClient } from '../server/connect.js';
import { resolveConnectionTarget, type ConnectionFlags, type ConnectionTarget } from '../server/connectionTarget.js';
import { printJson, printJsonFailureOf } from './jsonReport.js';

export interface ConfirmFlags extends ConnectionFlags {
  json?: boolean;
}

export async function confirmCommand(flags: ConfirmFlags): Promise<number> {
  let report: ConfirmReport;
  try {
    report = await confirmWith(resolveConnectionTarget(flags));
  } catch (error) {
    if (flags.json) printJsonFailureOf('confirm', error, emptyConfirmReport());
    throw error;
  }
  if (flags.json) {
    printJson('confirm', report, { exitCode: report.exitCode, changed: report.changed, error: report.error });
    process.stderr.write(`${report.message}\n`);
  } else process.stdout.write(`${report.message}\n`);
  return report.exitCode;
}

/** The same confirmation for the wizard's Enter: a new session, then the journal. */
export function confirmWith(target: ConnectionTarget): Promise<ConfirmReport> {
  return withClient(target, (client) => confirmPendingRun(client));
}

export async function confirmDeadlineCommand(flags: { journal: string }): Promise<number> {
  return watchDeadline(flags.journal);
}
