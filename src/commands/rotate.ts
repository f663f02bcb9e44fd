/** `pgssl rotate`: flags (or the wizard's answers) → the rotate flow → report and exit code. */
import { printJsonFailure, printJsonReport } from './jsonReport.js';
import { keySpecFrom } from '../certs/keys.js';
import { UsageError } from '../errors.js';
import { runRotate } from '../flow/rotate/run.js';
import { emptyRotateReport, type RotateReport } from '../flow/rotate/report.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { textView } from '../ui/enableView.js';
import { interactivePrompter, nonInteractivePrompter } from '../ui/prompter.js';
import { colourWanted, makeStyle, type Style } from '../ui/style.js';
import { certificateSource } from './enable.js';

export interface RotateFlags extends ConnectionFlags {
  json?: boolean;
  color?: boolean;
  yes?: boolean;
  nonInteractive?: boolean;
  dryRun?: boolean;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  caCert?: string;
  caKey?: string;
  san?: string[];
  days: number;
  keyType?: string;
  /** The DBA typed --key-type; otherwise the new key has the type of the one in force. */
  keyTypeGiven?: boolean;
  rsaBits: number;
  rsaBitsGiven?: boolean;
  certDir?: string;
  allowNameMismatch?: boolean;
  ifExpiringWithin?: number;
  check?: boolean;
  verbose?: boolean;
  ca?: boolean;
  finish?: boolean;
}

export async function rotateCommand(flags: RotateFlags): Promise<number> {
  if (flags.finish && !flags.ca) throw new UsageError('--finish goes with --ca (the second phase of a CA rotation)');
  if (flags.ca) {
    throw new UsageError('pgssl rotate --ca (a new CA with an overlap bundle, then --finish) is not implemented yet; nothing was changed. pgssl rotate without --ca renews the server certificate from the CA in force.');
  }
  const interactive = Boolean(process.stdin.isTTY) && !flags.nonInteractive && !flags.json;
  const out = flags.json ? process.stderr : process.stdout;
  const style = makeStyle(colourWanted(flags.color, out as NodeJS.WriteStream));
  const source = certificateSource(flags);
  const key = flags.keyTypeGiven || flags.rsaBitsGiven ? keySpecFrom(flags.keyType, flags.rsaBits, flags.rsaBitsGiven) : undefined;
  const check = Boolean(flags.check);
  let report: RotateReport;
  try {
    report = await runRotate({
      target: resolveConnectionTarget(flags),
      source,
      san: flags.san ?? [],
      days: flags.days,
      key,
      certDir: flags.certDir,
      allowNameMismatch: Boolean(flags.allowNameMismatch),
      ifExpiringWithin: flags.ifExpiringWithin,
      check,
      verbose: Boolean(flags.verbose),
      dryRun: Boolean(flags.dryRun),
      yes: Boolean(flags.yes),
      stateDir: process.env.PGSSL_STATE_DIR || undefined,
      prompter: interactive && !check ? interactivePrompter() : nonInteractivePrompter(Boolean(flags.yes)),
      view: textView(out, style),
    });
  } catch (error) {
    if (flags.json) printJsonFailure('rotate', error, () => emptyRotateReport(Boolean(flags.dryRun), check));
    throw error;
  }
  if (flags.json) printJsonReport('rotate', report);
  else if (report.due !== false || flags.verbose) out.write(summary(report, style));
  return report.exitCode;
}

function summary(report: RotateReport, s: Style): string {
  const lines = ['', s.bold('Summary')];
  if (report.check || report.due === false) {
    const e = report.expiry!;
    return [...lines, `  ${e.due ? s.warn('due') : s.ok('not due')}: the served certificate expires on ${e.notAfter.slice(0, 10)} (${e.daysLeft} days left; threshold ${e.withinDays})`, ...report.nextSteps.map((n) => `  - ${n}`), ''].join('\n');
  }
  if (report.dryRun) return [...lines, '  Dry run: nothing was written and no statement that changes anything was run.', ''].join('\n');
  for (const step of report.steps) lines.push(`  ${step.status.padEnd(12)} ${step.title}`);
  if (report.journal) lines.push(`  Journal (for pgssl rollback): ${report.journal}`);
  for (const next of report.nextSteps) lines.push(`  - ${next}`);
  lines.push('', report.changed ? s.ok(`The server serves the new certificate (SHA-256 ${report.after?.fingerprint.slice(0, 16)}…), verified with ${report.caFile ?? 'its CA'}.`) : s.ok('Nothing changed.'));
  return lines.join('\n') + '\n';
}
