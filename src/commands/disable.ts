/** `pgssl disable`: flags (or the wizard's answers) → the disable flow → report and exit code. */
import { printJsonFailure, printJsonReport } from './jsonReport.js';
import { emptyDisableReport, runDisable, type DisableReport } from '../flow/disable/run.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { textView } from '../ui/enableView.js';
import { interactivePrompter, nonInteractivePrompter } from '../ui/prompter.js';
import { colourWanted, makeStyle, type Style } from '../ui/style.js';

export interface DisableFlags extends ConnectionFlags {
  json?: boolean;
  color?: boolean;
  yes?: boolean;
  nonInteractive?: boolean;
  dryRun?: boolean;
  allRules?: boolean;
  keepSsl?: boolean;
  includeLoopback?: boolean;
}

export async function disableCommand(flags: DisableFlags): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY) && !flags.nonInteractive && !flags.json;
  const out = flags.json ? process.stderr : process.stdout;
  const style = makeStyle(colourWanted(flags.color, out as NodeJS.WriteStream));
  let report: DisableReport;
  try {
    report = await runDisable({
      target: resolveConnectionTarget(flags),
      dryRun: Boolean(flags.dryRun),
      yes: Boolean(flags.yes),
      allRules: Boolean(flags.allRules),
      keepSsl: Boolean(flags.keepSsl),
      includeLoopback: flags.includeLoopback,
      stateDir: process.env.PGSSL_STATE_DIR || undefined,
      prompter: interactive ? interactivePrompter() : nonInteractivePrompter(Boolean(flags.yes)),
      view: textView(out, style),
    });
  } catch (error) {
    if (flags.json) printJsonFailure('disable', error, () => emptyDisableReport(Boolean(flags.dryRun)));
    throw error;
  }
  if (flags.json) printJsonReport('disable', report);
  else out.write(summary(report, style));
  return report.exitCode;
}

function summary(report: DisableReport, s: Style): string {
  const lines = ['', s.bold('Summary')];
  if (report.dryRun) return [...lines, '  Dry run: nothing was written and no statement that changes anything was run.', ''].join('\n');
  for (const step of report.steps) lines.push(`  ${step.status.padEnd(12)} ${step.title}`);
  if (report.journal) lines.push(`  Journal (for pgssl rollback): ${report.journal}`);
  for (const next of report.nextSteps) lines.push(`  - ${next}`);
  lines.push('', report.changed ? s.warn('TLS is no longer required' + (report.steps.find((x) => x.id === 'tls-off')?.status === 'done' ? ' and the server no longer offers it.' : '.')) : s.ok('Nothing to change.'));
  return lines.join('\n') + '\n';
}
