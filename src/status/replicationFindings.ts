/**
 * Findings about replication and configuration managers (pure): a standby
 * whose primary_conninfo lets libpq fall back to plain, or does not verify
 * the primary; a server whose files another tool regenerates.
 */
import type { StatusEvidence } from './evidence.js';
import type { Finding } from './findings.js';

const verifyFullFix = 'Run `pgssl enable` on the standby: it sets sslmode=verify-full sslrootcert=… in primary_conninfo (ALTER SYSTEM, every other parameter kept), reloads and proves the walreceiver streams again over TLS.';

export function replicationFindings(evidence: StatusEvidence): Finding[] {
  const standby = evidence.replication?.standby;
  const findings: Finding[] = [];
  if (standby) {
    const view = standby.primaryConninfo;
    const where = `primary_conninfo (host ${view.host ?? 'default'}${view.port ? `, port ${view.port}` : ''})`;
    if (view.security === 'plain-possible') {
      findings.push({
        id: 'PRIMARY_CONNINFO_NO_TLS',
        severity: 'error',
        message: `${where} has ${view.sslmode ? `sslmode=${view.sslmode}` : 'no sslmode (libpq then uses prefer)'}: the walreceiver falls back to a plain connection whenever TLS fails, and replicated data (and the replication password) can travel in clear text.`,
        fix: verifyFullFix,
      });
    } else if (view.security === 'unverified') {
      findings.push({
        id: 'PRIMARY_CONNINFO_UNVERIFIED',
        severity: 'warning',
        message: `${where} has sslmode=${view.sslmode}: encrypted, but the standby does not check that the host name is the primary's (a machine in the middle with any certificate${view.sslmode === 'verify-ca' ? ' from the same CA' : ''} is accepted).`,
        fix: verifyFullFix,
      });
    } else if (view.security === 'ca-unreadable') {
      findings.push({
        id: 'PRIMARY_CONNINFO_CA_UNREADABLE',
        severity: 'error',
        message: `${where} has sslmode=verify-full, but its root certificate ${view.rootCertPath ?? '(~/.postgresql/root.crt of the server\'s OS user)'} is missing or not readable by the server's OS user: the walreceiver cannot connect at all.`,
        fix: 'Put the CA that signed the primary\'s certificate there (readable by the server\'s OS user), or run `pgssl enable --ca-file CA.crt` on the standby.',
      });
    } else if (view.security === 'unparsable') {
      findings.push({ id: 'PRIMARY_CONNINFO_UNREADABLE', severity: 'warning', message: `primary_conninfo could not be read as a connection string: ${view.problem}.`, fix: 'Check primary_conninfo (SHOW primary_conninfo) and the standby\'s log.' });
    }
    if (view.security !== 'none' && standby.walReceiver?.status !== 'streaming') {
      findings.push({
        id: 'WALRECEIVER_NOT_STREAMING',
        severity: 'warning',
        message: `This standby's walreceiver is ${standby.walReceiver ? `"${standby.walReceiver.status}"` : 'not running'}: it does not stream from its primary now.`,
        fix: 'Look in the standby\'s server log for the reason (e.g. "could not connect to the primary server").',
      });
    }
  }
  for (const manager of evidence.managers ?? []) {
    findings.push({
      id: 'CONFIG_MANAGED',
      severity: 'warning',
      message: `${manager.tool} manages this server's configuration and regenerates ${manager.overwrites.join(', ')}: edit TLS and pg_hba.conf through it (pgssl enable, disable and rotate refuse to).`,
      fix: manager.fix,
      items: manager.evidence,
    });
  }
  return findings;
}
