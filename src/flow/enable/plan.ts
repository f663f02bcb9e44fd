/**
 * Enable's plan, decided before anything changes: which certificate (kept,
 * issued, or the DBA's files), which files to install, which settings, which
 * pg_hba.conf rules become hostssl, and the lockout check. The wizard's
 * questions are asked here; the plan is then a value that --dry-run renders
 * and the runner applies.
 */
import { X509Certificate } from 'node:crypto';
import { servedFingerprint } from '../../certs/fingerprint.js';
import { covers } from '../../certs/inspect.js';
import { localHostNames } from '../../certs/hostNames.js';

type LocalHostNames = Awaited<ReturnType<typeof localHostNames>>;
import { planTlsFiles, type PlannedTlsFile } from '../../certs/install.js';
import { commonNameFor, defaultServerNames } from '../../certs/names.js';
import { UsageError } from '../../errors.js';
import { describeRule } from '../../hba/describe.js';
import { unifiedDiff } from '../../hba/diff.js';
import { planRewrite, ruleId, type RewritePlan } from '../../hba/rewrite.js';
import { isSocketHost } from '../../server/connectionTarget.js';
import { probeTls } from '../../server/tlsProbe.js';
import { probeWeakTls } from '../../server/weakTls.js';
import { probesFor } from '../../server/weakTlsPlan.js';
import { probeAddressFor } from '../../status/listen.js';
import { withSpinner } from '../../ui/spinner.js';
import { decideCertificate, type CertificateDecision } from '../certificateStep.js';
import { checkNoLockout } from '../lockout.js';
import type { Preflight } from '../preflight.js';
import { askSans, askSource } from '../questions.js';
import type { EnableReport } from '../report.js';
import { desiredTlsSettings, type SettingChange } from '../tlsSettings.js';
import type { EnableOptions } from './options.js';
import type { ServerStateDir } from '../../files/stateDir.js';

export interface EnablePlan {
  /** Where pgssl connects over TCP for its proofs (the admin's host, or a listen address when on the socket). */
  connectHost: string;
  host: LocalHostNames;
  decision: CertificateDecision;
  files: PlannedTlsFile[];
  settings: SettingChange[];
  hba: RewritePlan;
  /** The name verify-full checks: one the certificate covers. */
  verifyName: string;
  /** False only with --allow-name-mismatch and a certificate that covers none of the names: the chain is verified, the name is not. */
  checkHostName: boolean;
  nothingToChange: boolean;
}

export async function planEnable(pre: Preflight, options: EnableOptions, state: ServerStateDir, report: EnableReport, hostNames: Promise<LocalHostNames> = localHostNames()): Promise<EnablePlan> {
  const { prompter, view } = options;
  const connectHost = isSocketHost(options.target.host) ? probeAddressFor(pre.listen)! : options.target.host;
  // What the server serves now decides whether the installed certificate can be kept; with ssl = off it serves nothing.
  const tlsOff = pre.facts.settings.ssl?.value === 'off';
  // Handshakes offering only weak suites or old protocols decide whether the cipher list must go (they leave a log line each, so only when the settings leave room).
  const weakProbes = tlsOff ? [] : probesFor({ ciphers: pre.facts.settings.ssl_ciphers?.value, minProtocol: pre.facts.settings.ssl_min_protocol_version?.value });
  const [host, currentProbe, weakTls] = await Promise.all([hostNames, tlsOff ? undefined : probeTls({ host: connectHost, port: pre.port }), weakProbes.length ? probeWeakTls({ host: connectHost, port: pre.port }, weakProbes) : []]);
  const served = currentProbe?.accepted ? servedFingerprint(currentProbe.chainDer) : undefined;
  const source = options.source ?? (await askSource(prompter));
  const listenAddresses = pre.listen.addresses ?? undefined;
  const sanExtra = options.san ?? (prompter.interactive ? await askSans(prompter, defaultServerNames({ ...host, listenAddresses })) : []);
  const names = defaultServerNames({ ...host, listenAddresses, extra: sanExtra });
  const hosts = names.map((n) => n.replace(/^(DNS|IP):/, ''));
  const decision = await withSpinner(
    'preparing the certificate',
    decideCertificate({
      source,
      names,
      commonName: commonNameFor(host),
      days: options.days,
      key: options.key,
      stateDir: state.dir,
      stateOwner: state.owner,
      settings: pre.facts.settings,
      dataDirectory: pre.dataDirectory,
      tlsServedFingerprint: served,
      allowNameMismatch: options.allowNameMismatch,
      hosts: source.kind === 'files' ? hosts.filter((h) => h === connectHost || h === 'localhost') : hosts,
      planOnly: options.dryRun,
      prewarmedKeys: options.prewarmedKeys,
    }),
  );
  report.certificate = { description: decision.description, names: decision.names, notAfter: decision.notAfter, caFile: decision.caFile, action: decision.action };
  view.detail(`${decision.action === 'keep' ? 'keep' : 'use'} ${decision.description}`);
  view.detail(`names: ${decision.names.join(', ')}`);
  for (const warning of decision.warnings) view.warn(`${warning.id}: ${warning.message}`);

  const certDir = options.certDir ?? pre.dataDirectory;
  const files: PlannedTlsFile[] = decision.contents ? planTlsFiles(decision.contents, certDir, pre.dataDirectory) : [];
  if (options.dryRun && decision.action === 'issue') {
    files.push(...planTlsFiles({ certificatePem: '(new)', privateKeyPem: '(new)', caCertificatePem: source.kind === 'self-signed' ? undefined : '(new)' }, certDir, pre.dataDirectory));
  }
  const settings = desiredTlsSettings({ settings: pre.facts.settings, files, minTls: options.minTls, keepCiphers: options.keepCiphers, weakTls });
  report.settings = settings;

  const hba = await planHbaRewrite(pre, options);
  checkNoLockout(pre, hba, options.target);
  report.hba = {
    changes: hba.changes.map((c) => ({ file: c.file, line: c.line, before: c.before, after: c.after })),
    kept: hba.kept.map((k) => ({ file: k.rule.file, line: k.rule.line, reason: k.reason })),
    holes: hba.holes.map((h) => ({ file: h.file, line: h.line })),
    diff: hba.files.map((f) => unifiedDiff(f.path, f.before, f.after)).join(''),
    backups: [],
  };
  report.sessions.withoutTls = pre.sessions.filter((s) => !s.tls);
  const verifyName = pickVerifyName(decision.certificatePem, connectHost, hosts);
  return {
    connectHost,
    host,
    decision,
    files,
    settings,
    hba,
    verifyName,
    checkHostName: !(options.allowNameMismatch && decision.certificatePem !== '' && !coversName(decision.certificatePem, verifyName)),
    nothingToChange: files.length === 0 && settings.length === 0 && hba.changes.length === 0,
  };
}

/** The rules to convert: the flags' limits, then the wizard's loopback question and checklist. */
async function planHbaRewrite(pre: Preflight, options: EnableOptions): Promise<RewritePlan> {
  const { prompter, view } = options;
  let rewrite = options.rewrite;
  let plan = planRewrite(pre.hba, rewrite);
  const limited = rewrite.addresses ?? rewrite.databases ?? rewrite.users;
  if (limited && plan.changes.length === 0 && planRewrite(pre.hba, { ...rewrite, addresses: undefined, databases: undefined, users: undefined }).changes.length > 0) {
    throw new UsageError(
      `--only-address/--only-db/--only-user select none of the remote host rules of ${pre.hbaFile} (the values must be written as in the file: ${[...(rewrite.addresses ?? []), ...(rewrite.databases ?? []), ...(rewrite.users ?? [])].join(', ')}); nothing was changed. pgssl hba check ${pre.hbaFile} lists the rules.`,
    );
  }
  const interactive = prompter.interactive && !options.yes;
  const loopbackRules = plan.kept.filter((k) => k.reason === 'loopback only').length;
  if (interactive && rewrite.includeLoopback === undefined && loopbackRules > 0) {
    const includeLoopback = await prompter.confirm({
      message: `Also require TLS on the ${loopbackRules} loopback-only host rule(s) (127.0.0.0/8, ::1, localhost)? Local clients would then need TLS too.`,
      flag: '--include-loopback',
      default: false,
    });
    rewrite = { ...rewrite, includeLoopback };
    plan = planRewrite(pre.hba, rewrite);
  }
  if (interactive && plan.changes.length > 0) {
    const chosen = await prompter.checkbox({
      message: 'Which pg_hba.conf rules should require TLS? (space toggles, enter confirms)',
      flag: '--only-db/--only-user/--only-address/--skip-replication',
      default: plan.changes.map((c) => ruleId(c.rule)),
      choices: plan.changes.map((c) => ({ value: ruleId(c.rule), name: describeRule(c.rule), checked: true })),
    });
    const exclude = new Set(plan.changes.map((c) => ruleId(c.rule)).filter((id) => !chosen.includes(id)));
    if (exclude.size === plan.changes.length) view.warn('no rule was chosen: remote clients will still get in without TLS, and the server will not be compliant (pgssl status: HBA_PLAIN_REMOTE)');
    else if (exclude.size > 0) view.warn(`${exclude.size} remote rule(s) left as host: clients matching them still get in without TLS (pgssl status: HBA_PLAIN_REMOTE)`);
    plan = planRewrite(pre.hba, { ...rewrite, exclude });
  }
  return plan;
}

function coversName(certificatePem: string, name: string): boolean {
  try {
    return covers(new X509Certificate(certificatePem), name);
  } catch {
    return false;
  }
}

function pickVerifyName(certificatePem: string, connectHost: string, hosts: string[]): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch {
    return connectHost;
  }
  for (const candidate of [connectHost, 'localhost', ...hosts]) if (covers(cert, candidate)) return candidate;
  return connectHost;
}
