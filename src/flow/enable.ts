/**
 * `pgssl enable`, in the safe order (DESIGN.md): learn → certificates →
 * install files → TLS on, proven with a verify-full handshake → hostssl in
 * pg_hba.conf (lockout-checked, server-parsed), proven by a refused plain
 * connection → live sessions → report. Every change is journaled before it is
 * made; any failure or Ctrl-C undoes the run in reverse.
 */
import { readFileSync, statSync } from 'node:fs';
import { defaultServerNames, commonNameFor } from '../certs/names.js';
import { localHostNames } from '../certs/hostNames.js';
import { dataDirectoryOwner, installTlsFiles, planTlsFiles, type PlannedTlsFile } from '../certs/install.js';
import type { KeySpec } from '../certs/keys.js';
import { ExitCode, OperationalError, PgsslError, messageOf } from '../errors.js';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { backupFile } from '../files/backup.js';
import { describeRule } from '../hba/describe.js';
import { unifiedDiff } from '../hba/diff.js';
import { loadHba } from '../hba/load.js';
import { planRewrite, ruleId, type RewriteOptions } from '../hba/rewrite.js';
import { closeAtExit, openClient, settleClosing, type Client, type ObservedTls } from '../server/connect.js';
import { isSocketHost, type ConnectionTarget } from '../server/connectionTarget.js';
import { proveEnforcement } from '../server/enforcement.js';
import { isRejectedRule, readServerHbaRules } from '../server/hbaFileRules.js';
import { confirmReload, reloadAndWait, type Reload } from '../server/reload.js';
import { lastServerLogLine } from '../server/serverLog.js';
import { probeTls } from '../server/tlsProbe.js';
import { fingerprintOf, verifyTls } from '../server/verifyTls.js';
import { collectStatusEvidenceWith } from '../status/collect.js';
import { probeAddressFor } from '../status/listen.js';
import { buildStatusReport } from '../status/report.js';
import type { EnableView } from '../ui/enableView.js';
import { Cancelled, type Prompter } from '../ui/prompter.js';
import { withSpinner } from '../ui/spinner.js';
import { decideCertificate, type CertificateSource } from './certificateStep.js';
import { checkNoLockout } from './lockout.js';
import { askSans, askSource, shouldUndo } from './questions.js';
import { showPlan } from '../ui/planView.js';
import { Journal } from './journal.js';
import { preflight } from './preflight.js';
import { emptyReport, type EnableReport, type StepId } from './report.js';
import { handleLiveSessions } from './sessionsStep.js';
import { desiredTlsSettings } from './tlsSettings.js';
import { undoJournalFiles } from './undo.js';
import { covers } from '../certs/inspect.js';
import { X509Certificate, createHash } from 'node:crypto';

export interface EnableOptions {
  target: ConnectionTarget;
  source?: CertificateSource;
  san?: string[];
  days: number;
  key: KeySpec;
  certDir?: string;
  allowNameMismatch: boolean;
  minTls: 'TLSv1.2' | 'TLSv1.3';
  keepCiphers: boolean;
  rewrite: RewriteOptions;
  /** undefined: ask (interactive) or keep them (--yes). */
  terminateNonSsl?: boolean;
  dryRun: boolean;
  yes: boolean;
  stateDir: string;
  walsenderWaitMs: number;
  prompter: Prompter;
  view: EnableView;
  /** RSA keys started before the modules loaded (cli.cts); unused ones are dropped. */
  prewarmedKeys?: Promise<import('../certs/keys.js').KeyPairPem>[];
}

/** Verification failed and the run was undone: exit 3. */
export class VerificationFailed extends PgsslError {
  constructor(message: string) {
    super(message, ExitCode.checkFailed);
  }
}

const totalSteps = 7;

export async function runEnable(givenOptions: EnableOptions): Promise<EnableReport> {
  let options = givenOptions;
  const report = emptyReport(options.dryRun);
  const { view, prompter } = options;
  const step = (id: StepId) => report.steps.find((s) => s.id === id)!;
  const announce = (id: StepId) => view.step(report.steps.findIndex((s) => s.id === id) + 1, totalSteps, step(id).title);

  let cancelRequested = false;
  const onSigint = () => {
    cancelRequested = true;
    view.warn('Ctrl-C: stopping after the current action');
  };
  process.on('SIGINT', onSigint);
  const checkpoint = () => {
    if (cancelRequested) throw new Cancelled();
  };

  // DNS for the certificate's names runs while we connect and learn.
  const hostNames = localHostNames();
  const client = await openClient(options.target);
  client.on('error', () => undefined);
  let journal: Journal | undefined;
  let lastTls: { host: string; port: number; tls: ObservedTls } | undefined;
  try {
    announce('preflight');
    const pre = await preflight(client, { lock: !options.dryRun });
    report.server = { version: pre.facts.versionText.split(' ').slice(0, 2).join(' '), dataDirectory: pre.dataDirectory, hbaFile: pre.hbaFile, port: pre.port, systemIdentifier: pre.systemIdentifier };
    view.detail(`${report.server.version}, data directory ${pre.dataDirectory}, pg_hba.conf ${pre.hbaFile}`);
    view.detail(`listen_addresses = '${pre.listen.addresses}', port ${pre.port}; ${pre.hba.ruleCount} pg_hba.conf rules; ${pre.sessions.length} other TCP session(s)`);
    step('preflight').status = 'done';
    checkpoint();

    // ---- Step 2: certificates (decided; keys generated only when needed)
    announce('certificates');
    const connectHost = isSocketHost(options.target.host) ? probeAddressFor(pre.listen)! : options.target.host;
    // What the server serves now decides whether the installed certificate can be kept; with ssl = off it serves nothing.
    const tlsOff = pre.facts.settings.ssl?.value === 'off';
    const [host, currentProbe] = await Promise.all([hostNames, tlsOff ? undefined : probeTls({ host: connectHost, port: pre.port })]);
    const served = currentProbe?.accepted && currentProbe.chainDer[0] ? createHash('sha256').update(currentProbe.chainDer[0]).digest('hex') : undefined;
    const source = options.source ?? (await askSource(prompter));
    const sanExtra = options.san ?? (prompter.interactive ? await askSans(prompter, defaultServerNames({ ...host, listenAddresses: pre.listen.addresses ?? undefined })) : []);
    const names = defaultServerNames({ ...host, listenAddresses: pre.listen.addresses ?? undefined, extra: sanExtra });
    const hosts = names.map((n) => n.replace(/^(DNS|IP):/, ''));
    const decision = await withSpinner(
      'preparing the certificate',
      decideCertificate({
        source,
        names,
        commonName: commonNameFor(host),
        days: options.days,
        key: options.key,
        stateDir: options.stateDir,
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
    step('certificates').status = decision.action === 'keep' ? 'already-done' : options.dryRun ? 'planned' : 'done';

    const certDir = options.certDir ?? pre.dataDirectory;
    const filePlan: PlannedTlsFile[] = decision.contents ? planTlsFiles(decision.contents, certDir, pre.dataDirectory) : [];
    if (options.dryRun && decision.action === 'issue') {
      filePlan.push(
        ...planTlsFiles({ certificatePem: '(new)', privateKeyPem: '(new)', caCertificatePem: source.kind === 'self-signed' ? undefined : '(new)' }, certDir, pre.dataDirectory),
      );
    }
    const settingChanges = desiredTlsSettings({ settings: pre.facts.settings, files: filePlan, minTls: options.minTls, keepCiphers: options.keepCiphers });
    report.settings = settingChanges;

    // ---- pg_hba.conf plan and lockout checks: all before any change
    let hbaPlan = planRewrite(pre.hba, options.rewrite);
    const loopbackHostRules = hbaPlan.kept.filter((k) => k.reason === 'loopback only').length;
    if (prompter.interactive && !options.yes && options.rewrite.includeLoopback === undefined && loopbackHostRules > 0) {
      const includeLoopback = await prompter.confirm({
        message: `Also require TLS on the ${loopbackHostRules} loopback-only host rule(s) (127.0.0.0/8, ::1, localhost)? Local clients would then need TLS too.`,
        flag: '--include-loopback',
        default: false,
      });
      if (includeLoopback) hbaPlan = planRewrite(pre.hba, { ...options.rewrite, includeLoopback });
      options = { ...options, rewrite: { ...options.rewrite, includeLoopback } };
    }
    if (prompter.interactive && hbaPlan.changes.length > 0 && !options.yes) {
      const chosen = await prompter.checkbox({
        message: 'Which pg_hba.conf rules should require TLS? (space toggles, enter confirms)',
        flag: '--only-db/--only-user/--only-address/--skip-replication',
        default: hbaPlan.changes.map((c) => ruleId(c.rule)),
        choices: hbaPlan.changes.map((c) => ({ value: ruleId(c.rule), name: describeRule(c.rule), checked: true })),
      });
      const exclude = new Set(hbaPlan.changes.map((c) => ruleId(c.rule)).filter((id) => !chosen.includes(id)));
      hbaPlan = planRewrite(pre.hba, { ...options.rewrite, exclude });
    }
    checkNoLockout(pre, hbaPlan, options.target);
    report.hba = {
      changes: hbaPlan.changes.map((c) => ({ file: c.file, line: c.line, before: c.before, after: c.after })),
      kept: hbaPlan.kept.map((k) => ({ file: k.rule.file, line: k.rule.line, reason: k.reason })),
      holes: hbaPlan.holes.map((h) => ({ file: h.file, line: h.line })),
      diff: hbaPlan.files.map((f) => unifiedDiff(f.path, f.before, f.after)).join(''),
      backups: [],
    };
    report.sessions.withoutTls = pre.sessions.filter((s) => !s.tls);
    showPlan(view, report, filePlan, hbaPlan);
    checkpoint();

    const nothingToChange = filePlan.length === 0 && settingChanges.length === 0 && hbaPlan.changes.length === 0;
    if (options.dryRun) {
      view.detail('dry run: nothing was changed');
      report.nextSteps.push('Run the same command without --dry-run to apply this plan.');
      return report;
    }
    if (!nothingToChange && !options.yes) {
      const go = await prompter.confirm({ message: 'Apply these changes now?', flag: '--yes', default: true });
      if (!go) throw new Cancelled();
    }

    journal = nothingToChange ? undefined : Journal.create(options.stateDir, 'enable', { systemIdentifier: pre.systemIdentifier, dataDirectory: pre.dataDirectory, port: pre.port });
    report.journal = journal?.path;

    // ---- Step 3: install files
    announce('install-files');
    if (filePlan.length === 0) {
      step('install-files').status = 'already-done';
      view.ok('nothing to install');
    } else {
      const owner = dataDirectoryOwner(pre.dataDirectory);
      const installed = installTlsFiles(filePlan, owner, (file, previous) =>
        journal!.record({ kind: 'file', path: file.path, existed: !previous.created, backup: previous.backup?.backup, mode: previous.backup?.mode, uid: previous.backup?.uid, gid: previous.backup?.gid, why: `TLS ${file.role} file` }),
      );
      report.files = installed.map((file, i) => ({ path: file.path, role: filePlan[i].role, action: !file.changed ? 'unchanged' : file.created ? 'created' : 'replaced', backup: file.backup?.backup, mode: filePlan[i].mode.toString(8).padStart(4, '0') }));
      for (const file of report.files) view.ok(`${file.action} ${file.path} (mode ${file.mode})${file.backup ? `, previous saved as ${file.backup}` : ''}`);
      step('install-files').status = installed.some((f) => f.changed) ? 'done' : 'already-done';
    }
    checkpoint();

    // ---- Step 4: TLS on, proven
    announce('tls-on');
    const filesChanged = report.files.some((f) => f.action !== 'unchanged');
    if (settingChanges.length > 0) {
      const backup = backupFile(pre.autoConfPath);
      journal!.record({ kind: 'server-config', path: pre.autoConfPath, backup: backup.backup, mode: backup.mode, uid: backup.uid, gid: backup.gid, why: 'ALTER SYSTEM' });
      for (const change of settingChanges) {
        await client.query(change.sql);
        view.ok(change.sql);
      }
    }
    let tlsReload: Reload | undefined;
    if (settingChanges.length > 0 || filesChanged) {
      tlsReload = await withSpinner('reloading the configuration', reloadAndWait(client, options.target, { confirmWithNewSession: false }));
      view.ok(`configuration reloaded (seen by the server after ${tlsReload.waitedMs} ms)`);
      const errors = (await client.query(`SELECT sourcefile, sourceline, name, error FROM pg_file_settings WHERE error IS NOT NULL`)).rows;
      if (errors.length > 0) throw new VerificationFailed(`the server reports configuration errors after the change: ${errors.map((e) => `${e.sourcefile}:${e.sourceline} ${e.name ?? ''} ${e.error}`).join('; ')}`);
    }
    const verifyName = pickVerifyName(decision.certificatePem, connectHost, hosts);
    const tls = await afterReload(tlsReload, options.target, (result) => result.ok, () =>
      verifyTls(options.target, { host: connectHost, port: pre.port, verifyName, caPem: decision.trustPem, expectedCertificatePem: decision.certificatePem, loadedAfter: tlsReload?.loadedBefore }),
    );
    report.verification.tls = tls;
    if (!tls.ok) throw new VerificationFailed(`TLS does not work after turning it on: ${tls.reason}${await serverLogHint(client, pre.dataDirectory)}`);
    view.ok(`verify-full handshake with ${tls.address} as "${tls.verifiedName}": ${tls.protocol}, ${tls.cipher}; serving the installed certificate (SHA-256 ${fingerprintOf(decision.certificatePem).slice(0, 16)}…)`);
    if (tls.pgStatSsl) view.ok(`pg_stat_ssl for that session: ssl=${tls.pgStatSsl.ssl}, ${tls.pgStatSsl.version}, ${tls.pgStatSsl.cipher}, ${tls.pgStatSsl.bits} bits`);
    else view.warn(tls.pgStatSslSkipped ?? 'pg_stat_ssl not read');
    step('tls-on').status = settingChanges.length > 0 || filesChanged ? 'done' : 'already-done';
    checkpoint();

    // ---- Step 5: enforce in pg_hba.conf, proven
    announce('enforce');
    if (hbaPlan.changes.length === 0) {
      step('enforce').status = 'already-done';
      view.ok('no remote host rule left to convert');
    } else {
      for (const file of hbaPlan.files) {
        const stat = statSync(file.path);
        if (!readFileSync(file.path).equals(file.beforeBytes)) throw new OperationalError(`${file.path} changed while pgssl was working; run pgssl enable again`);
        const backup = backupFile(file.path);
        report.hba.backups.push(backup.backup);
        journal!.record({ kind: 'file', path: file.path, existed: true, backup: backup.backup, mode: backup.mode, uid: backup.uid, gid: backup.gid, why: 'pg_hba.conf rewrite' });
        writeFileAtomic(file.path, file, { mode: stat.mode & 0o7777, ...(process.getuid?.() === 0 ? { uid: stat.uid, gid: stat.gid } : {}) });
        view.ok(`rewrote ${file.path} (previous saved as ${backup.backup})`);
      }
      const serverView = await readServerHbaRules(client);
      const rejected = serverView.filter(isRejectedRule);
      if (rejected.length > 0) throw new VerificationFailed(`the server rejects the rewritten pg_hba.conf: ${rejected.map((r) => `${r.fileName ?? pre.hbaFile}:${r.lineNumber}: ${r.error}`).join('; ')}`);
      view.ok(`the server's own parse (pg_hba_file_rules) accepts it: ${serverView.filter((r) => r.type === 'hostssl').length} hostssl rule(s)`);
      const hbaReload = await withSpinner('reloading pg_hba.conf', reloadAndWait(client, options.target, { confirmWithNewSession: false }));
      view.ok(`reloaded (seen by the server after ${hbaReload.waitedMs} ms)`);
      const rulesAfter = loadHba(pre.hbaFile, pre.facts.major).rules; // as written now, from disk
      const enforcement = await afterReload(hbaReload, options.target, (result) => result.proof.ok, () => proveEnforcement(options.target, {
        connectHost,
        port: pre.port,
        rulesAfter,
        converted: rulesAfter.filter((r) => hbaPlan.changes.some((c) => c.file === r.file && c.line === r.line)),
        hostAddresses: host.interfaceAddresses,
        regularExpressions: pre.facts.major >= 16,
        memberOf: pre.adminMemberOf,
      }));
      const proof = enforcement.proof;
      report.verification.enforcement = proof;
      // The TLS attempt came after the last reload: the final status takes its handshake as evidence.
      if (enforcement.observedTls) lastTls = { host: connectHost, port: pre.port, tls: enforcement.observedTls };
      if (!proof.ok) {
        const attempt = proof.attempts[0];
        throw new VerificationFailed(`pg_hba.conf is not enforced as planned: from ${attempt.source}, plain → ${attempt.plainMessage}; TLS → ${attempt.tlsMessage}`);
      }
      for (const attempt of proof.attempts) {
        view.ok(`plain connection from ${attempt.source} as ${attempt.user} to ${attempt.database} refused: "${attempt.plainMessage}"`);
        view.ok(`TLS connection from ${attempt.source} passes pg_hba.conf (${attempt.tlsMessage === 'connected' ? 'connected' : 'reached authentication'})`);
      }
      if (proof.skipped) view.warn(proof.skipped);
      step('enforce').status = 'done';
    }
    checkpoint();

    // ---- Step 6: live sessions
    announce('sessions');
    await handleLiveSessions(client, options, report);
    step('sessions').status = report.sessions.withoutTls.length === 0 ? 'already-done' : report.sessions.terminated.length > 0 ? 'done' : 'skipped';

    journal?.setStatus('applied');
    // Probe sessions still closing must not be counted as live sessions.
    await settleClosing();
    const now = new Date();
    const status = buildStatusReport(await collectStatusEvidenceWith(client, options.target, now, { observedTls: lastTls }), { now, expiryWarnDays: 30 });
    report.compliance = { result: status.compliance, findings: status.findings };
    report.exitCode = status.compliance === 'not-compliant' ? ExitCode.checkFailed : ExitCode.ok;
    step('report').status = 'done';
    report.connect = connectLine(connectHost, pre.port, verifyName, decision.caFile, options.target);
    report.nextSteps.push(
      `Clients: sslmode=verify-full with the CA ${decision.caFile ?? '(your CA)'}; e.g. ${report.connect}`,
      'Standbys: add sslmode=verify-full sslrootcert=… to primary_conninfo, so that replication is verified too.',
      `The certificate expires on ${decision.notAfter.slice(0, 10)}: pgssl status warns 30 days before.`,
    );
    return report;
  } catch (error) {
    if (journal?.changed && (await shouldUndo(error, options))) {
      report.undone = await undoRun(journal, client, options, view);
      for (const s of report.steps) if (s.status === 'done') s.status = 'undone';
    } else if (journal?.changed) {
      journal.note('stopped by the user after changes; kept as they are');
      journal.setStatus('applied');
      view.warn(`kept the changes made so far; pgssl rollback undoes them (journal ${journal.path})`);
    }
    const failed = report.steps.find((s) => s.status === 'planned' && s.id !== 'report');
    if (failed && !(error instanceof Cancelled)) failed.status = 'failed';
    report.error = messageOf(error);
    const final =
      error instanceof Cancelled
        ? new OperationalError(`cancelled${report.undone ? '; every change was undone' : journal?.changed ? `; the changes made so far were kept (pgssl rollback undoes them)` : '; nothing was changed'}`)
        : error instanceof VerificationFailed && report.undone
          ? new VerificationFailed(`${error.message}. Every change was undone${report.undone.failures.length ? ' except: ' + report.undone.failures.join('; ') : ''}; the server is as it was.`)
          : error;
    report.exitCode = final instanceof PgsslError ? final.exitCode : ExitCode.operational;
    // The command still prints the report (--json) before the error message.
    (final as { report?: EnableReport }).report = report;
    throw final;
  } finally {
    process.off('SIGINT', onSigint);
    // The run lock goes first and explicitly: the session then closes without holding the exit up.
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    closeAtExit(client);
  }
}

/**
 * A check whose new sessions also prove the reload before it (reloadAndWait
 * watched only our own session). A failure is believed only after a new
 * session has confirmed that the server runs the reloaded configuration and
 * the check has run again: never undo because a reload was still under way.
 */
async function afterReload<T>(reload: Reload | undefined, target: ConnectionTarget, ok: (result: T) => boolean, check: () => Promise<T>): Promise<T> {
  const result = await check();
  if (ok(result) || !reload) return result;
  await confirmReload(target, reload.loadedBefore);
  return check();
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

function connectLine(host: string, port: number, verifyName: string, caFile: string | undefined, target: ConnectionTarget): string {
  const hostPart = verifyName === host ? `host=${host}` : `host=${verifyName} hostaddr=${host}`;
  return `psql "${hostPart} port=${port} dbname=${target.database} user=${target.user} sslmode=verify-full sslrootcert=${caFile ?? 'CA.crt'}"`;
}

async function serverLogHint(client: Client, dataDirectory: string): Promise<string> {
  // The cause ("could not load server certificate file …") comes just before the generic "SSL configuration was not reloaded".
  const { file, line } = await lastServerLogLine(client, dataDirectory, [/could not (load|access|open|read)|permission denied|private key file/i, /certificate|SSL|ssl_/i]);
  if (line) return `. The server log (${file}) says: ${line.trim()}`;
  return file ? ` (see the server log ${file})` : ' (see the server log)';
}

async function undoRun(journal: Journal, client: Client, options: EnableOptions, view: EnableView) {
  view.warn('undoing the changes made so far, in reverse order');
  const result = undoJournalFiles(journal);
  for (const path of result.restored) view.ok(`restored ${path}`);
  for (const path of result.removed) view.ok(`removed ${path}`);
  try {
    await reloadAndWait(client, options.target);
    view.ok('configuration reloaded');
  } catch (error) {
    result.failures.push(`reload after undo: ${messageOf(error)}`);
  }
  for (const failure of result.failures) view.fail(`could not undo: ${failure}`);
  journal.setStatus(result.failures.length === 0 ? 'undone' : 'undo-failed');
  return result;
}

