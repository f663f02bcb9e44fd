/**
 * Turns status evidence into findings with stable IDs, a severity and a fix.
 * Pure: the same evidence always gives the same findings. An `error` finding
 * means "not compliant": TLS does not work or a remote client can still get in
 * without it.
 */
import type { CertificateSummary } from '../certs/x509.js';
import { isLoopbackAddress } from '../hba/addresses.js';
import { isBroadCipherList, strictCiphers } from '../server/settings.js';
import { weakProbes } from '../server/weakTlsPlan.js';
import { isRejectedRule, type ServerHbaRule } from '../server/hbaFileRules.js';
import type { StatusEvidence } from './evidence.js';
import { replicationFindings } from './replicationFindings.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  id: string;
  severity: Severity;
  message: string;
  fix?: string;
  /** The rules, sessions or files the finding is about. */
  items?: string[];
}

export interface FindingOptions {
  now: Date;
  expiryWarnDays: number;
}

export function evaluateFindings(evidence: StatusEvidence, options: FindingOptions): Finding[] {
  return [
    ...tlsFindings(evidence),
    ...hbaFindings(evidence),
    ...sessionFindings(evidence),
    ...fileFindings(evidence),
    ...expiryFindings(evidence, options),
    ...weakTlsFindings(evidence),
    ...settingFindings(evidence),
    ...confirmWindowFindings(evidence),
    ...caRotationFindings(evidence),
    ...replicationFindings(evidence),
  ];
}

/** An overlap left open is not a fault, but a step the DBA still owes: say where it stands. */
function caRotationFindings(evidence: StatusEvidence): Finding[] {
  const rotation = evidence.caRotation;
  if (!rotation) return [];
  return [
    {
      id: 'CA_ROTATION_IN_PROGRESS',
      severity: 'info',
      message: `A CA rotation is in progress: the overlap began on ${rotation.began.slice(0, 10)} ${rotation.began.slice(11, 16)} UTC. The server trusts the old CA (${rotation.oldCa}) and the new one (${rotation.newCa}); clients with either CA file verify.`,
      fix: `Once every client has the bundle ${rotation.clientCaFile}, run \`pgssl rotate --ca --finish\` (or \`pgssl rollback\` to give up the new CA).`,
      items: [rotation.clientCaFile],
    },
  ];
}

/** enable --confirm-within: a run waiting for its verdict, one reverted just now, one that should have been. */
function confirmWindowFindings(evidence: StatusEvidence): Finding[] {
  const windows = evidence.confirmWindows;
  if (!windows) return [];
  const findings: Finding[] = [];
  for (const open of windows.pending) {
    findings.push({
      id: 'CONFIRM_PENDING',
      severity: 'warning',
      message: `A pgssl enable waits for confirmation until ${open.deadline} (${open.secondsLeft} s left); unconfirmed, it is reverted then${open.watchdogAlive ? '' : ' by the next pgssl command or pgssl status (its watchdog is not running)'}.`,
      fix: 'Run pgssl confirm (from a new session) to keep it.',
      items: [open.journal],
    });
  }
  for (const done of windows.reverted) {
    findings.push(
      done.ok
        ? { id: 'CONFIRM_REVERTED', severity: 'info', message: `Reverted now: ${done.reason}; the audit below is of the server as it was before that run.`, items: [done.journal] }
        : { id: 'CONFIRM_DEADLINE_PASSED', severity: 'error', message: `The revert of an unconfirmed run failed (${done.reason}): ${done.undo?.failures.join('; ')}.`, fix: 'Run pgssl rollback as a superuser on the server\'s host; it shows what is left.', items: [done.journal] },
    );
  }
  for (const closed of windows.mustRevert) {
    findings.push({ id: 'CONFIRM_DEADLINE_PASSED', severity: 'error', message: `An unconfirmed run must be reverted (${closed.reason}), and status could not: ${closed.why}.`, fix: 'Run pgssl status or pgssl rollback as a superuser on the server\'s host.', items: [closed.journal] });
  }
  return findings;
}

function tlsFindings(evidence: StatusEvidence): Finding[] {
  const ssl = evidence.server.settings.ssl?.value;
  const { tls, listen } = evidence;
  const findings: Finding[] = [];
  if (ssl !== 'on') {
    findings.push({
      id: 'SSL_OFF',
      severity: 'error',
      message: 'ssl is off: every client connection travels in clear text.',
      fix: 'Run `pgssl enable` (or `pgssl enable --dry-run` to see the plan first).',
    });
  } else if (listen.noTcp) {
    findings.push({ id: 'LISTEN_NO_TCP', severity: 'info', message: 'listen_addresses is empty: the server accepts no TCP connections, so TLS cannot be used or needed.' });
  } else if (!tls.accepted) {
    findings.push({
      id: 'TLS_NOT_WORKING',
      severity: 'error',
      message: `ssl is on, but a real TLS handshake with ${tls.probedAt} failed: ${tls.reason}. SHOW ssl says "on" even when the certificate or key could not be loaded.`,
      fix: 'Look in the server log for "could not load server certificate file" or "private key file"; fix ssl_cert_file/ssl_key_file and their permissions, then SELECT pg_reload_conf(). `pgssl enable` does this and verifies it.',
    });
  }
  if (tls.accepted && tls.servedCertificate?.selfSigned) {
    findings.push({
      id: 'CERT_SELF_SIGNED',
      severity: 'info',
      message: 'The served certificate is self-signed: clients can encrypt but cannot use sslmode=verify-full without pinning this exact certificate.',
      fix: 'Use a CA-signed certificate (`pgssl enable` creates a private CA by default, or pass your own with --cert-file/--key-file/--ca-file).',
    });
  }
  const unsuitable = tls.accepted ? (tls.servedCertificateProblems ?? []) : [];
  if (unsuitable.length > 0) {
    findings.push({
      id: 'SERVED_CERT_UNSUITABLE',
      severity: unsuitable.some((p) => p.severity === 'error') ? 'error' : 'warning',
      message: 'TLS works, but clients will refuse the certificate the server serves, or cannot log in over it:',
      fix: unsuitable.map((p) => p.fix).filter((fix, i, all) => all.indexOf(fix) === i).join(' '),
      items: unsuitable.map((p) => `${p.id}: ${p.message.replace(/^the served certificate: /, '')}`),
    });
  }
  if (listen.localOnly) {
    findings.push({
      id: 'LISTEN_LOCAL_ONLY',
      severity: 'info',
      message: `listen_addresses = '${listen.addresses}': remote clients cannot reach this server at all today; the pg_hba.conf findings matter as soon as it listens on another address.`,
    });
  }
  return findings;
}

function ruleLocation(rule: ServerHbaRule): string {
  return `${rule.fileName ?? 'pg_hba.conf'}:${rule.lineNumber}`;
}

function describeRule(rule: ServerHbaRule): string {
  const address = rule.netmask ? `${rule.address}/${rule.netmask}` : rule.address;
  return `${ruleLocation(rule)}: ${rule.type} ${rule.database?.join(',')} ${rule.userName?.join(',')} ${address} ${rule.authMethod}`;
}

export function allowsRemote(rule: ServerHbaRule): boolean {
  return rule.error === null && rule.authMethod !== 'reject' && rule.address !== null && !isLoopbackAddress(rule.address, rule.netmask);
}

function hbaFindings(evidence: StatusEvidence): Finding[] {
  if (!evidence.hba) return [];
  const { rules } = evidence.hba;
  const findings: Finding[] = [];
  const invalid = rules.filter(isRejectedRule);
  if (rules.length === 0) {
    // hba.c: "configuration file contains no entries" — a reload keeps the old rules and logs it; a restart fails.
    findings.push({
      id: 'HBA_INVALID',
      severity: 'error',
      message: 'pg_hba.conf on disk has no rules at all (pg_hba_file_rules shows none): the server keeps its old rules until the next restart, and then refuses to start.',
      fix: 'Put the rules back (pgssl rollback restores the file pgssl last changed; otherwise from your backup or configuration repository), then SELECT pg_reload_conf().',
    });
  } else if (invalid.length > 0) {
    findings.push({
      id: 'HBA_INVALID',
      severity: 'error',
      message: 'pg_hba.conf on disk has lines the server rejects: the next reload keeps the old rules, the next restart fails.',
      fix: 'Fix the lines below (the server itself reports them in pg_hba_file_rules).',
      items: invalid.map((rule) => `${ruleLocation(rule)}: ${rule.error ?? 'rejected by the server (it gave no reason; see the server log)'}`),
    });
  }
  // hostnogssenc admits plain TCP clients exactly like host does.
  const plain = rules.filter((rule) => (rule.type === 'host' || rule.type === 'hostnogssenc') && allowsRemote(rule));
  if (plain.length > 0) {
    findings.push({
      id: 'HBA_PLAIN_REMOTE',
      severity: 'error',
      message: `${plain.length} pg_hba.conf rule(s) of type "host" (or hostnogssenc) let remote clients in without TLS (ssl = on alone enforces nothing).`,
      fix: 'Change them to "hostssl" once TLS works: `pgssl enable` does it in the safe order, `pgssl hba rewrite FILE --diff` shows the change.',
      items: plain.map(describeRule),
    });
  }
  const holes = rules.filter((rule) => rule.type === 'hostnossl' && allowsRemote(rule));
  if (holes.length > 0) {
    findings.push({
      id: 'HBA_NOSSL_ALLOW',
      severity: 'error',
      message: `${holes.length} "hostnossl" rule(s) explicitly let remote clients in only without TLS.`,
      fix: 'Remove them, or make them "reject" if they exist to refuse plain connections.',
      items: holes.map(describeRule),
    });
  }
  return findings;
}

function sessionFindings(evidence: StatusEvidence): Finding[] {
  const sessions = evidence.sessions?.withoutTls ?? [];
  if (sessions.length === 0) return [];
  const remote = sessions.some((session) => session.clientAddr !== null && !isLoopbackAddress(session.clientAddr));
  return [
    {
      id: 'SESSIONS_WITHOUT_TLS',
      severity: remote ? 'error' : 'warning',
      message: `${sessions.length} live TCP session(s) do not use TLS${remote ? ', some from remote hosts' : ' (all from loopback)'}; they keep working unencrypted until they reconnect.`,
      fix: 'Once pg_hba.conf enforces TLS, end them with SELECT pg_terminate_backend(pid) (or `pgssl enable --terminate-non-ssl`); walsenders reconnect by themselves.',
      items: sessions.map(
        (s) => `pid ${s.pid} ${s.backendType} user=${s.user ?? '?'} db=${s.database ?? '-'} from ${s.clientAddr} app=${s.applicationName || '-'}`,
      ),
    },
  ];
}

function fileFindings(evidence: StatusEvidence): Finding[] {
  const sslOn = evidence.server.settings.ssl?.value === 'on';
  const findings: Finding[] = [];
  for (const file of evidence.files) {
    // With ssl off, absent files at the default paths are simply not set up yet.
    const notSetUp = !sslOn && !file.exists;
    if (file.problem && !notSetUp) {
      findings.push({
        id: file.role === 'key' ? 'KEY_FILE_PROBLEM' : 'CERT_FILE_PROBLEM',
        severity: sslOn && file.role !== 'ca' ? 'error' : 'warning',
        message: `${file.setting} = ${file.path}: ${file.problem}.`,
        fix: 'Point the setting at a readable PEM file owned by the server\'s OS user, or let `pgssl enable` create and install one.',
      });
    }
    if (file.permissionProblem) {
      findings.push({
        id: 'KEY_PERMISSIONS',
        severity: 'error',
        message: `${file.path}: ${file.permissionProblem}. The server refuses to load such a key at the next reload or restart.`,
        fix: `chown postgres: ${file.path} && chmod 0600 ${file.path}`,
      });
    }
    if (file.matchesCertificate === false) {
      findings.push({
        id: 'KEY_MISMATCH',
        severity: 'error',
        message: `${file.path} is not the private key of the certificate in ssl_cert_file: the server cannot load the pair.`,
        fix: 'Install the key that belongs to the certificate, or issue a new pair with `pgssl enable`.',
      });
    }
    if (file.passphraseProtected && !evidence.server.settings.ssl_passphrase_command?.value) {
      findings.push({
        id: 'KEY_PASSPHRASE',
        severity: sslOn ? 'error' : 'warning',
        message: `${file.path} is passphrase-protected and ssl_passphrase_command is not set: the server cannot load it on reload.`,
        fix: 'Set ssl_passphrase_command (and ssl_passphrase_command_supports_reload), or install an unencrypted key with mode 0600.',
      });
    }
  }
  return findings;
}

function expiryFindings(evidence: StatusEvidence, options: FindingOptions): Finding[] {
  const seen = new Set<string>();
  const certs: { where: string; cert: CertificateSummary }[] = [];
  if (evidence.tls.servedCertificate) certs.push({ where: `served by ${evidence.tls.probedAt}`, cert: evidence.tls.servedCertificate });
  for (const file of evidence.files) if (file.certificate && file.role === 'cert') certs.push({ where: file.path, cert: file.certificate });
  const findings: Finding[] = [];
  for (const { where, cert } of certs) {
    if (seen.has(cert.fingerprintSha256)) continue;
    seen.add(cert.fingerprintSha256);
    if (new Date(cert.notAfter) < options.now) {
      findings.push({
        id: 'CERT_EXPIRED',
        severity: 'error',
        message: `The server certificate (${where}) expired on ${cert.notAfter}: verifying clients refuse it.`,
        fix: 'Issue a new one: `pgssl rotate`.',
      });
    } else if (new Date(cert.notBefore) > options.now) {
      findings.push({ id: 'CERT_NOT_YET_VALID', severity: 'error', message: `The server certificate (${where}) is not valid before ${cert.notBefore}.`, fix: 'Check the clock of the host that issued it.' });
    } else if (cert.daysLeft < options.expiryWarnDays) {
      findings.push({
        id: 'CERT_EXPIRES_SOON',
        severity: 'warning',
        message: `The server certificate (${where}) expires in ${cert.daysLeft} day(s), on ${cert.notAfter}.`,
        fix: 'Issue a new one before then: `pgssl rotate`.',
      });
    }
  }
  return findings;
}

const weakProtocols = new Set(['', 'TLSv1', 'TLSv1.1']);
const cipherFix = `ALTER SYSTEM SET ssl_ciphers = '${strictCiphers}'; SELECT pg_reload_conf();`;
const protocolFix = "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'; SELECT pg_reload_conf();";
const labelOf = (id: string) => weakProbes.find((p) => p.id === id)?.label ?? id;

/**
 * WEAK_CIPHERS and WEAK_MIN_PROTOCOL from real handshakes (evidence.weakTls);
 * the settings alone decide only when no handshake could run, and say so.
 */
function weakTlsFindings(evidence: StatusEvidence): Finding[] {
  const { settings } = evidence.server;
  const { results } = evidence.weakTls;
  const findings: Finding[] = [];
  const ran = (kind: 'cipher' | 'protocol') => results.filter((r) => r.kind === kind && (r.outcome === 'accepted' || r.outcome === 'refused'));
  const accepted = (kind: 'cipher' | 'protocol') => results.flatMap((r) => (r.kind === kind && r.outcome === 'accepted' ? [r] : []));

  const ciphers = settings.ssl_ciphers?.value;
  const weakSuites = accepted('cipher');
  if (weakSuites.length > 0) {
    findings.push({
      id: 'WEAK_CIPHERS',
      severity: 'warning',
      message: `The server accepted handshakes that offered only weak suites (ssl_ciphers = '${ciphers}'): ${weakSuites.map((r) => r.cipher).join(', ')}.`,
      fix: cipherFix,
      items: weakSuites.map((r) => `${labelOf(r.probe)}: accepted ${r.cipher} over ${r.protocol}`),
    });
  } else if (ran('cipher').length === 0 && ciphers !== undefined && isBroadCipherList(ciphers) && evidence.server.settings.ssl?.value === 'on') {
    findings.push({
      id: 'WEAK_CIPHERS',
      severity: 'warning',
      message: `ssl_ciphers = '${ciphers}' looks like it offers CBC suites or key exchanges without forward secrecy (not proven: no handshake could run${evidence.weakTls.skipped ? `, ${evidence.weakTls.skipped}` : ''}).`,
      fix: cipherFix,
    });
  }

  const minProtocol = settings.ssl_min_protocol_version?.value;
  const oldProtocols = accepted('protocol');
  const triedProtocols = ran('protocol');
  if (oldProtocols.length > 0) {
    findings.push({
      id: 'WEAK_MIN_PROTOCOL',
      severity: 'warning',
      message: `The server accepted ${oldProtocols.map((r) => r.protocol).join(' and ')} handshakes (ssl_min_protocol_version = '${minProtocol}'); TLS older than 1.2 has known weaknesses.`,
      fix: protocolFix,
      items: oldProtocols.map((r) => `${labelOf(r.probe)}: accepted with ${r.cipher}`),
    });
  } else if (minProtocol !== undefined && weakProtocols.has(minProtocol) && evidence.server.settings.ssl?.value === 'on') {
    // Allowed by the setting, refused today by the server's OpenSSL (its security level): one
    // change to the system's OpenSSL configuration, or another build, would allow it.
    const refused = triedProtocols.length > 0;
    findings.push({
      id: 'WEAK_MIN_PROTOCOL',
      severity: refused ? 'info' : 'warning',
      message: refused
        ? `ssl_min_protocol_version = '${minProtocol}' allows TLS older than 1.2; the server refused real ${triedProtocols.map((r) => labelOf(r.probe)).join(' and ')} handshakes today (${(triedProtocols[0] as { reason: string }).reason}), but only because of its OpenSSL's configuration.`
        : `ssl_min_protocol_version = '${minProtocol}' allows TLS versions older than 1.2, which have known weaknesses (not proven: no handshake could run).`,
      fix: protocolFix,
    });
  }
  return findings;
}

function settingFindings(evidence: StatusEvidence): Finding[] {
  const { settings, fileSettings } = evidence.server;
  const findings: Finding[] = [];
  const broken = (fileSettings ?? []).filter((row) => row.error !== null);
  if (broken.length > 0) {
    findings.push({
      id: 'CONFIG_FILE_ERRORS',
      severity: 'warning',
      message: 'The configuration files have errors: the server keeps old values for the settings concerned.',
      items: broken.map((row) => `${row.sourcefile}:${row.sourceline}: ${row.name ?? ''} ${row.error}`),
    });
  }
  const notReloaded = (fileSettings ?? []).filter((row) => row.error === null && !row.applied && row.name?.startsWith('ssl') && isLastAssignment(fileSettings!, row));
  if (notReloaded.length > 0) {
    findings.push({
      id: 'SSL_SETTINGS_NOT_RELOADED',
      severity: 'warning',
      message: 'TLS settings were changed in the configuration files but not loaded yet.',
      fix: 'SELECT pg_reload_conf();',
      items: notReloaded.map((row) => `${row.sourcefile}:${row.sourceline}: ${row.name} = '${row.setting}'`),
    });
  }
  const restart = Object.values(settings).filter((s) => s.name.startsWith('ssl') && s.pendingRestart);
  if (restart.length > 0) {
    findings.push({ id: 'SSL_PENDING_RESTART', severity: 'warning', message: `Changed but waiting for a server restart: ${restart.map((s) => s.name).join(', ')}.` });
  }
  return findings;
}

/** pg_file_settings lists every assignment; only the last one for a name counts. */
function isLastAssignment(rows: { name: string | null }[], row: { name: string | null }): boolean {
  return rows.filter((r) => r.name === row.name).at(-1) === row;
}

export type Compliance = 'compliant' | 'not-compliant' | 'unknown';

/** Exit 3 on any error finding; exit 1 when a deciding check could not run. */
export function judgeCompliance(evidence: StatusEvidence, findings: Finding[]): Compliance {
  if (findings.some((f) => f.severity === 'error')) return 'not-compliant';
  if (!evidence.hba) return 'unknown';
  return 'compliant';
}
