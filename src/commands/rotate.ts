/** `pgssl rotate`: flags (or the wizard's answers) → the rotate flow → report and exit code. */
import { printJsonFailure, printJsonReport } from './jsonReport.js';
import { keySpecFrom } from '../certs/keys.js';
import { UsageError } from '../errors.js';
import { optionProblems, optionProblemsMessage } from './optionRules.js';
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
  // cli.cts checks these before any action (optionRules); callers that bypass it get the same message.
  const problems = optionProblems('rotate', { '--ca': flags.ca, '--finish': flags.finish, '--ca-cert': flags.caCert, '--ca-key': flags.caKey, '--cert-file': flags.certFile, '--key-file': flags.keyFile, '--ca-file': flags.caFile, '--check': flags.check, '--if-expiring-within': flags.ifExpiringWithin?.toString() });
  if (problems.length > 0) throw new UsageError(optionProblemsMessage(problems));
  const ca = flags.ca ? { finish: Boolean(flags.finish) } : undefined;
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
      ca,
      verbose: Boolean(flags.verbose),
      dryRun: Boolean(flags.dryRun),
      yes: Boolean(flags.yes),
      stateDir: process.env.PGSSL_STATE_DIR || undefined,
      prompter: interactive && !check ? interactivePrompter() : nonInteractivePrompter(Boolean(flags.yes)),
      view: textView(out, style),
    });
  } catch (error) {
    if (flags.json) printJsonFailure('rotate', error, () => emptyRotateReport(Boolean(flags.dryRun), check, Boolean(ca)));
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
  if (report.caRotation) return caSummary(report, lines, s);
  for (const step of report.steps) lines.push(`  ${step.status.padEnd(12)} ${step.title}`);
  if (report.journal) lines.push(`  Journal (for pgssl rollback): ${report.journal}`);
  for (const next of report.nextSteps) lines.push(`  - ${next}`);
  lines.push('', report.changed ? s.ok(`The server serves the new certificate (SHA-256 ${report.after?.fingerprint.slice(0, 16)}…), verified with ${report.caFile ?? 'its CA'}.`) : s.ok('Nothing changed.'));
  return lines.join('\n') + '\n';
}

function caSummary(report: RotateReport, lines: string[], s: Style): string {
  const ca = report.caRotation!;
  for (const step of report.steps) lines.push(`  ${step.status.padEnd(12)} ${step.title}`);
  if (report.journal) lines.push(`  Journal (for pgssl rollback): ${report.journal}`);
  for (const warning of ca.warnings) lines.push(`  ${s.warn('!')} ${warning}`);
  for (const next of report.nextSteps) lines.push(`  - ${next}`);
  const began = `${ca.began.slice(0, 10)} ${ca.began.slice(11, 16)} UTC`;
  const last =
    ca.phase === 'in-overlap'
      ? `Nothing changed: a CA rotation is in progress, the overlap began on ${began}.`
      : ca.phase === 'begin'
        ? `Overlap begun: the old CA file and the bundle ${ca.clientCaFile} both verify; client certificates from either CA are accepted.`
        : `CA rotation finished: only the new CA remains in ${ca.clientCaFile} and in ssl_ca_file; the old CA file alone no longer verifies.`;
  lines.push('', report.changed || ca.phase === 'in-overlap' ? s.ok(last) : s.ok('Nothing changed.'));
  return lines.join('\n') + '\n';
}
