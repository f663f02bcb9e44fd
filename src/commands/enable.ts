/** `pgssl enable`: flags (or the wizard's answers) → the enable flow → report and exit code. */
import { printJsonFailure, printJsonReport, type RunReport } from './jsonReport.js';
import { keySpecFrom, type KeyPairPem } from '../certs/keys.js';
import { ExitCode, UsageError } from '../errors.js';
import { countdownToDeadline } from '../flow/confirm/countdown.js';
import { confirmWith } from './confirm.js';
import type { CertificateSource } from '../flow/certificateStep.js';
import { runEnableOnServer, type EnableOutcome } from '../flow/enable/primaryOrStandby.js';
import { emptyReport, type EnableReport } from '../flow/report.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { textView } from '../ui/enableView.js';
import { interactivePrompter, nonInteractivePrompter } from '../ui/prompter.js';
import { colourWanted, makeStyle, type Style } from '../ui/style.js';
import { rewriteOptions, type HbaRewriteFlags } from './rewriteFlags.js';
import { targetOrLocalServer } from './serverChoice.js';
import { emptyStandbyReport, type StandbyReport } from '../flow/standby/report.js';

export interface EnableFlags extends ConnectionFlags, HbaRewriteFlags {
  json?: boolean;
  color?: boolean;
  yes?: boolean;
  nonInteractive?: boolean;
  dryRun?: boolean;
  requireReady?: boolean;
  selfSigned?: boolean;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  caCert?: string;
  caKey?: string;
  san?: string[];
  days: number;
  /** --key-type: ecdsa (default) or rsa. */
  keyType?: string;
  rsaBits: number;
  /** The DBA typed --rsa-bits (rather than commander filling in its default). */
  rsaBitsGiven?: boolean;
  certDir?: string;
  allowNameMismatch?: boolean;
  minTls: string;
  keepCiphers?: boolean;
  terminateNonSsl?: boolean;
  walsenderWait: number;
  confirmWithin?: number;
  /** On a standby: an admin conninfo for its primary, to see the walsender there too. */
  primary?: string;
  prewarmedKeys?: Promise<KeyPairPem>[];
}

export function certificateSource(flags: Pick<EnableFlags, 'selfSigned' | 'certFile' | 'keyFile' | 'caFile' | 'caCert' | 'caKey'>): CertificateSource | undefined {
  const chosen = [flags.selfSigned && '--self-signed', (flags.certFile || flags.keyFile) && '--cert-file/--key-file', (flags.caCert || flags.caKey) && '--ca-cert/--ca-key'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`choose one certificate source, not ${chosen.join(' and ')}`);
  if (flags.selfSigned) return { kind: 'self-signed' };
  if (flags.certFile || flags.keyFile) {
    if (!flags.certFile || !flags.keyFile) throw new UsageError('--cert-file and --key-file go together');
    return { kind: 'files', certFile: flags.certFile, keyFile: flags.keyFile, caFile: flags.caFile };
  }
  if (flags.caFile) throw new UsageError('--ca-file goes with --cert-file/--key-file; to sign a new certificate with your CA use --ca-cert/--ca-key');
  if (flags.caCert || flags.caKey) {
    if (!flags.caCert || !flags.caKey) throw new UsageError('--ca-cert and --ca-key go together');
    return { kind: 'ca', caCert: flags.caCert, caKey: flags.caKey };
  }
  return undefined;
}

export async function enableCommand(flags: EnableFlags): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY) && !flags.nonInteractive && !flags.json;
  const out = flags.json ? process.stderr : process.stdout;
  const style = makeStyle(colourWanted(flags.color, out as NodeJS.WriteStream));
  const resolved = resolveConnectionTarget(flags);
  // --ca-file alone is the standby's CA (the primary's); on a primary it goes with --cert-file, checked once we know which.
  const caFileAlone = Boolean(flags.caFile && !flags.certFile && !flags.keyFile);
  const source = caFileAlone ? undefined : certificateSource(flags);
  const primary = flags.primary ? resolveConnectionTarget({ dbname: flags.primary }) : undefined;
  const key = keySpecFrom(flags.keyType, flags.rsaBits, flags.rsaBitsGiven);
  const minTls = flags.minTls === '1.3' || flags.minTls === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2';
  const prompter = interactive ? interactivePrompter() : nonInteractivePrompter(Boolean(flags.yes));
  // No server on the socket named: the wizard offers the local ones it sees; a script fails naming them.
  const target = await targetOrLocalServer(resolved, { prompter, yes: Boolean(flags.yes) });
  const view = textView(out, style);
  const dryRun = Boolean(flags.dryRun);
  // --json: one document for every outcome. A failure before the plan is chosen (to connect, say) gets the primary
  // plan's empty report, one on a standby the standby's; a flag the primary refuses is bad usage, whose document
  // the CLI's top-level catch prints (no plan's steps), as before the plan was chosen on the run's own session.
  let failureReport: (() => RunReport) | undefined = () => emptyReport(dryRun);
  let outcome: EnableOutcome;
  try {
    outcome = await runEnableOnServer(target, view, (role) => {
      if (role === 'standby') {
        failureReport = () => emptyStandbyReport(dryRun);
        refuseOnStandby(flags);
        return { role, options: { target, caFile: flags.caFile, primary, dryRun, yes: Boolean(flags.yes), stateDir: process.env.PGSSL_STATE_DIR || undefined, waitMs: flags.walsenderWait * 1000, prompter, view } };
      }
      failureReport = undefined;
      if (caFileAlone) certificateSource(flags);
      if (primary) throw new UsageError('--primary is for pgssl enable on a standby (it names the primary to check its walsender on); this server is not in recovery. Nothing was changed.');
      failureReport = () => emptyReport(dryRun);
      return {
        role,
        options: {
          target,
          source: source ?? (interactive && !flags.yes ? undefined : { kind: 'new-ca' }),
          san: flags.san ?? (interactive && !flags.yes ? undefined : []),
          days: flags.days,
          key,
          certDir: flags.certDir,
          allowNameMismatch: Boolean(flags.allowNameMismatch),
          minTls,
          keepCiphers: Boolean(flags.keepCiphers),
          rewrite: rewriteOptions(flags),
          terminateNonSsl: flags.terminateNonSsl,
          dryRun,
          requireReady: Boolean(flags.requireReady),
          yes: Boolean(flags.yes),
          // Unset: the data directory owner's state folder, so root and postgres find the same runs.
          stateDir: process.env.PGSSL_STATE_DIR || undefined,
          walsenderWaitMs: flags.walsenderWait * 1000,
          confirmWithin: flags.confirmWithin,
          prompter,
          view,
          prewarmedKeys: flags.prewarmedKeys,
        },
      };
    });
  } catch (error) {
    if (flags.json && failureReport) printJsonFailure('enable', error, failureReport);
    throw error;
  }
  if (outcome.role === 'standby') {
    if (flags.json) printJsonReport('enable', outcome.report);
    else out.write(standbySummary(outcome.report, style));
    return outcome.report.exitCode;
  }
  const report = outcome.report;
  if (flags.json) printJsonReport('enable', report);
  else out.write(summary(report, style));
  // The wizard waits for the verdict on a confirm window; --yes and scripts leave it to pgssl confirm.
  if (interactive && !flags.yes && report.confirm?.state === 'pending' && report.journal) {
    const end = await countdownToDeadline(report.journal, report.confirm.deadline, out as NodeJS.WriteStream, textView(out, style), () => confirmWith(target));
    return end === 'confirmed' ? report.exitCode : end === 'reverted' ? ExitCode.checkFailed : ExitCode.operational;
  }
  return report.exitCode;
}

/** Flags of enable's primary plan that a standby cannot use: refused before any step, nothing changed. */
function refuseOnStandby(flags: EnableFlags): void {
  const unusable = [
    flags.selfSigned && '--self-signed',
    (flags.certFile || flags.keyFile) && '--cert-file/--key-file',
    (flags.caCert || flags.caKey) && '--ca-cert/--ca-key',
    flags.san?.length && '--san',
    flags.terminateNonSsl && '--terminate-non-ssl',
    flags.requireReady && '--require-ready',
  ].filter((f): f is string => Boolean(f));
  if (unusable.length > 0) {
    throw new UsageError(`this server is a standby (pg_is_in_recovery()), where pgssl enable secures the replication connection (primary_conninfo) and installs no certificate: ${unusable.join(', ')} do not apply here. Nothing was changed. Run pgssl enable with those flags on the primary; here, --ca-file gives the primary's CA.`);
  }
}

function standbySummary(report: StandbyReport, s: Style): string {
  const lines = ['', s.bold('Summary (standby)')];
  if (report.dryRun) lines.push('  Dry run: nothing was written and no statement that changes anything was run.');
  else for (const step of report.steps) lines.push(`  ${step.status.padEnd(12)} ${step.title}`);
  if (report.journal) lines.push(`  Journal (for pgssl rollback): ${report.journal}`);
  for (const next of report.nextSteps) lines.push(`  - ${next}`);
  const receiver = report.verification.walReceiver;
  if (!report.dryRun && receiver) lines.push('', s.ok(`The walreceiver streams from ${receiver.senderHost}:${receiver.senderPort} with sslmode=verify-full.`));
  return lines.join('\n') + '\n';
}

function summary(report: EnableReport, s: Style): string {
  const lines = ['', s.bold('Summary')];
  if (report.dryRun) {
    lines.push('  Dry run: nothing was written and no statement that changes anything was run.');
    return lines.join('\n') + '\n';
  }
  for (const step of report.steps) lines.push(`  ${step.status.padEnd(12)} ${step.title}`);
  if (report.connect) lines.push('', `  Connect: ${report.connect}`);
  if (report.journal) lines.push(`  Journal (for pgssl rollback): ${report.journal}`);
  if (report.hba.backups.length || report.files.some((f) => f.backup)) lines.push(`  Backups: ${[...report.hba.backups, ...report.files.flatMap((f) => (f.backup ? [f.backup] : []))].join(', ')}`);
  for (const next of report.nextSteps) lines.push(`  - ${next}`);
  const remaining = report.compliance?.findings.filter((f) => f.severity === 'error') ?? [];
  lines.push('');
  if (report.compliance?.result === 'compliant') lines.push(s.ok('COMPLIANT: TLS works and no remote client can connect without it (pgssl status agrees).'));
  else lines.push(s.bad(`NOT COMPLIANT yet: ${remaining.map((f) => `${f.id} — ${f.message}`).join(' ')}`));
  return lines.join('\n') + '\n';
}
