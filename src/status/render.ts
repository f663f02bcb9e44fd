/** The human rendering of a status report. Pure: report in, text out. */
import type { CertificateSummary } from '../certs/x509.js';
import { describeTarget } from '../server/connectionTarget.js';
import type { Style } from '../ui/style.js';
import type { StatusReport } from './report.js';
import { renderReplication } from './replicationRender.js';

export function renderStatus(report: StatusReport, style: Style): string {
  const lines: string[] = [];
  const { server, connection, tls } = report;
  lines.push(style.bold(`pgssl status — PostgreSQL ${server.version.split(' ')[1] ?? server.versionNum} via ${describeTarget(connection)} as ${server.currentUser}${server.superuser ? ' (superuser)' : ''}`));
  lines.push('');
  lines.push(style.bold('TLS'));
  const sslSetting = server.settings.ssl;
  lines.push(`  ssl = ${sslSetting?.value ?? '?'}${sslSetting ? style.dim(`  (${settingSource(sslSetting)})`) : ''}`);
  if (tls.accepted) {
    lines.push(`  handshake with ${tls.probedAt}: ${style.ok('works')} — ${tls.protocol}, ${tls.cipher}${tls.cipherBits ? ` (${tls.cipherBits} bits)` : ''}`);
    if (tls.servedCertificate) lines.push(...renderCertificate('served certificate', tls.servedCertificate));
  } else {
    lines.push(`  handshake${tls.probedAt ? ` with ${tls.probedAt}` : ''}: ${style.bad('no TLS')} — ${tls.reason}`);
  }
  const weak = report.weakTls;
  if (weak.skipped) lines.push(`  weak handshakes: ${style.dim(`not tried (${weak.skipped})`)}`);
  else if (weak.results.length > 0) {
    const accepted = weak.results.filter((r) => r.outcome === 'accepted');
    const tried = weak.results.filter((r) => r.outcome === 'accepted' || r.outcome === 'refused').length;
    lines.push(`  weak handshakes: ${accepted.length > 0 ? style.bad(`${accepted.length} of ${tried} accepted`) : style.ok(`all ${tried} refused`)}${style.dim(' (only weak suites, or only TLS 1.0/1.1, offered)')}`);
  }
  for (const name of Object.keys(server.settings).filter((n) => n.startsWith('ssl_')).sort()) {
    const setting = server.settings[name];
    if ((setting.value === '' && setting.source === 'default') || name === 'ssl_library') continue;
    lines.push(`  ${name} = '${setting.value}'${style.dim(`  (${settingSource(setting)})`)}`);
  }
  lines.push(`  listen_addresses = '${report.listen.addresses ?? '?'}'`);

  if (report.files.length > 0) {
    lines.push('', style.bold('Files on disk'));
    for (const file of report.files) {
      const state = file.problem
        ? style.bad(file.problem)
        : [
            file.mode ? `mode ${file.mode}` : '',
            file.permissionProblem ? style.bad('permissions refused by PostgreSQL') : '',
            file.matchesCertificate === true ? style.ok('matches the certificate') : file.matchesCertificate === false ? style.bad('does not match the certificate') : '',
            file.passphraseProtected ? style.warn('passphrase-protected') : '',
            file.certificate ? `expires ${file.certificate.notAfter.slice(0, 10)} (${file.certificate.daysLeft} days)` : '',
          ]
            .filter(Boolean)
            .join(', ');
      lines.push(`  ${file.setting}: ${file.path} — ${state}`);
    }
  }

  if (report.hba) {
    const remoteRules = report.hba.rules.filter((r) => r.type !== 'local' && r.error === null).length;
    lines.push('', style.bold('pg_hba.conf') + style.dim(` (${report.hba.rules.length} rules, ${remoteRules} for TCP, as the server reads the file now)`));
  }
  if (report.sessions) {
    lines.push('', style.bold('Sessions') + `: ${report.sessions.withoutTls.length} TCP session(s) without TLS`);
  }

  lines.push(...renderReplication(report, style));

  lines.push('', style.bold('Findings'));
  if (report.findings.length === 0) lines.push(`  ${style.ok('none')}`);
  for (const finding of report.findings) {
    const mark = finding.severity === 'error' ? style.bad('✖') : finding.severity === 'warning' ? style.warn('!') : style.dim('i');
    lines.push(`  ${mark} ${style.bold(finding.id)}: ${finding.message}`);
    for (const item of finding.items ?? []) lines.push(`      - ${item}`);
    if (finding.fix) lines.push(style.dim(`      fix: ${finding.fix}`));
  }
  if (report.limitations.length > 0) {
    lines.push('', style.bold('Not checked'));
    for (const limitation of report.limitations) lines.push(`  - ${limitation.what}: ${limitation.reason}`);
  }
  lines.push('');
  const verdict =
    report.compliance === 'compliant'
      ? style.ok('COMPLIANT: TLS works and no remote client can connect without it.')
      : report.compliance === 'not-compliant'
        ? style.bad('NOT COMPLIANT: see the findings marked ✖.')
        : style.warn('UNKNOWN: no finding says otherwise, but pg_hba.conf could not be read (see "Not checked").');
  lines.push(verdict);
  return lines.join('\n') + '\n';
}

function settingSource(setting: { source: string; sourcefile: string | null; sourceline: number | null }): string {
  if (setting.sourcefile) return `${setting.sourcefile}:${setting.sourceline}`;
  return setting.source;
}

function renderCertificate(label: string, cert: CertificateSummary): string[] {
  return [
    `  ${label}: ${cert.subject}`,
    `    names: ${cert.subjectAltNames.join(', ') || '(no subjectAltName)'}`,
    `    issuer: ${cert.selfSigned ? 'self-signed' : cert.issuer}; ${cert.keyType.toUpperCase()} ${cert.keyBits ?? ''}; expires ${cert.notAfter} (${cert.daysLeft} days)`,
    `    SHA-256 ${cert.fingerprintSha256}`,
  ];
}
