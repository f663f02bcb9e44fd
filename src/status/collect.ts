/**
 * Gathers the evidence for `pgssl status`: server facts, a real TLS
 * handshake, files on disk, pg_hba.conf as the server reads it, live
 * sessions. Read-only, but for the revert of a confirm window the DBA let
 * pass (confirmWindows.ts).
 */
import { X509Certificate } from 'node:crypto';
import { serverCertificateProblems } from '../certs/serverUse.js';
import { summarizeCertificate } from '../certs/x509.js';
import { withClient, type Client, type ObservedTls } from '../server/connect.js';
import { isSocketHost, type ConnectionTarget } from '../server/connectionTarget.js';
import { discoverServerFacts, privilegeReason } from '../server/facts.js';
import { readServerHbaRules } from '../server/hbaFileRules.js';
import { readOrNote, type Limitation } from '../server/limitations.js';
import { checkLocality } from '../server/locality.js';
import { readTcpSessions } from '../server/sessions.js';
import { probeTls, type TlsProbeResult } from '../server/tlsProbe.js';
import { probeWeakTls } from '../server/weakTls.js';
import { probesFor, weakProbes } from '../server/weakTlsPlan.js';
import { inspectServerFiles } from './certFiles.js';
import { checkConfirmWindows } from './confirmWindows.js';
import type { StatusEvidence, TlsEvidence, WeakTlsEvidence } from './evidence.js';
import { readCaRotationRecord } from '../flow/rotate/caRecord.js';
import { serverStateDir } from '../files/stateDir.js';
import { probeAddressFor, readListenAddresses } from './listen.js';
import { collectReplicationEvidence } from '../replication/evidence.js';
import { detectConfigurationManagers, layoutFromSettings } from '../replication/managers.js';

export async function collectStatusEvidence(target: ConnectionTarget, now = new Date()): Promise<StatusEvidence> {
  return withClient(target, async (client) => {
    // Before the audit: a confirm window closed unconfirmed is reverted first (status/confirmWindows.ts).
    const confirmWindows = await checkConfirmWindows(client, target, now);
    const evidence = await collectStatusEvidenceWith(client, target, now);
    return confirmWindows ? { ...evidence, confirmWindows } : evidence;
  });
}

/** The same audit on a connection the caller already has (enable's final check). */
export interface CollectOptions {
  /**
   * A TLS session the caller has just had with the server (enable's
   * enforcement attempt, after its last reload): its handshake is the TLS
   * evidence, instead of one more probe. Used only for the same host and port.
   */
  observedTls?: { host: string; port: number; tls: ObservedTls };
}

export async function collectStatusEvidenceWith(client: Client, target: ConnectionTarget, now: Date, options: CollectOptions = {}): Promise<StatusEvidence> {
  const limitations: Limitation[] = [];
  const facts = await discoverServerFacts(client, limitations);
  const listen = readListenAddresses(facts.settings.listen_addresses?.value);
  const port = Number(facts.settings.port?.value ?? target.port);

  const probeHost = isSocketHost(target.host) ? probeAddressFor(listen) : target.host;
  // The handshake runs on its own socket while the queries below use the session.
  const observed = options.observedTls;
  const tlsProbe =
    observed && probeHost === observed.host && port === observed.port
      ? Promise.resolve(tlsEvidence(probeHost, port, { accepted: true, ...observed.tls }, now))
      : probeServedTls(probeHost, port, now);
  tlsProbe.catch(() => undefined); // awaited below; a failure in between must not leave it unhandled
  const weakTls = probeWeakSuites(probeHost, port, facts.settings);

  const dataDirectory = facts.settings.data_directory?.value;
  const locality = checkLocality(dataDirectory, port, facts.postmasterStartEpoch);
  let files: StatusEvidence['files'] = [];
  let caRotation: StatusEvidence['caRotation'];
  if (locality.local === true && dataDirectory) {
    files = inspectServerFiles(facts.settings, dataDirectory, now);
    caRotation = overlapInProgress(dataDirectory, port, limitations);
  } else {
    limitations.push({ what: 'certificate and key files on disk', reason: locality.local === true ? 'data directory unknown' : locality.reason });
  }

  const hbaRules = await readOrNote(limitations, 'pg_hba_file_rules (pg_hba.conf as the server reads it)', () => readServerHbaRules(client), (error) =>
    privilegeReason(error, 'superuser, or EXECUTE on pg_hba_file_rules() granted by a superuser'),
  );
  const sessions = await readOrNote(limitations, 'live sessions', () => readTcpSessions(client));
  if (sessions && !facts.canReadAllStats) {
    limitations.push({ what: 'sessions of other roles', reason: `their client addresses are hidden from role "${facts.currentUser}" (needs superuser or pg_read_all_stats)` });
  }
  const replication = await readOrNote(limitations, 'replication (pg_stat_replication; primary_conninfo on a standby)', () =>
    collectReplicationEvidence(client, facts.inRecovery, locality.local === true ? dataDirectory : undefined),
  );
  const layout = locality.local === true ? layoutFromSettings(facts.settings) : undefined;
  const managers = layout ? detectConfigurationManagers(layout) : undefined;
  const tls = await tlsProbe;
  const weak = await weakTls;
  if (!tls.accepted && weak.results.length > 0) {
    weak.results = [];
    weak.skipped = 'no TLS handshake works at all';
  }
  const untestable = weak.results.filter((r) => r.outcome === 'untestable');
  if (untestable.length > 0) {
    const labels = untestable.map((r) => weakProbes.find((p) => p.id === r.probe)!.label).join(', ');
    limitations.push({ what: `whether the server accepts ${labels} suites`, reason: `this machine's OpenSSL (${process.versions.openssl}) cannot offer them, so no handshake could try` });
  }

  return {
    checkedAt: now.toISOString(),
    connection: { host: target.host, port: target.port, user: target.user, database: target.database, tls: facts.ownTls },
    server: {
      version: facts.versionText,
      versionNum: facts.versionNum,
      major: facts.major,
      currentUser: facts.currentUser,
      superuser: facts.isSuperuser,
      inRecovery: facts.inRecovery,
      settings: facts.settings,
      fileSettings: facts.fileSettings,
    },
    listen,
    tls,
    weakTls: weak,
    locality,
    files,
    hba: hbaRules ? { rules: hbaRules } : undefined,
    caRotation,
    sessions: sessions ? { withoutTls: sessions.filter((s) => !s.tls), otherRolesHidden: !facts.canReadAllStats } : undefined,
    replication,
    managers,
    limitations,
  };
}

/**
 * Weak handshakes in parallel with the main probe, only when ssl_ciphers or
 * ssl_min_protocol_version leave room for a weak one: each refused handshake
 * is a line in the server's log, which a cron job must not fill.
 */
async function probeWeakSuites(host: string | undefined, port: number, settings: Record<string, { value: string }>): Promise<WeakTlsEvidence> {
  if (settings.ssl?.value !== 'on') return { skipped: 'ssl is off', results: [] };
  if (!host) return { skipped: 'the server listens on no TCP address', results: [] };
  const probes = probesFor({ ciphers: settings.ssl_ciphers?.value, minProtocol: settings.ssl_min_protocol_version?.value });
  if (probes.length === 0) return { skipped: 'ssl_ciphers allows only forward-secret AEAD suites and ssl_min_protocol_version is TLSv1.2 or later', results: [] };
  return { results: await probeWeakTls({ host, port }, probes) };
}

async function probeServedTls(host: string | undefined, port: number, now: Date): Promise<TlsEvidence> {
  if (!host) return { probedAt: null, accepted: false, reason: 'the server listens on no TCP address (listen_addresses is empty)' };
  return tlsEvidence(host, port, await probeTls({ host, port, servername: host }), now);
}

function tlsEvidence(host: string, port: number, result: TlsProbeResult, now: Date): TlsEvidence {
  const probedAt = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!result.accepted) return { probedAt, accepted: false, reason: result.reason };
  const leaf = result.chainDer[0] ? new X509Certificate(result.chainDer[0]) : undefined;
  return {
    probedAt,
    accepted: true,
    protocol: result.protocol,
    cipher: result.cipher,
    cipherBits: result.cipherBits,
    servedCertificate: leaf ? summarizeCertificate(leaf, now) : undefined,
    servedChainLength: result.chainDer.length,
    servedCertificateProblems: leaf ? serverCertificateProblems(leaf, 'the served certificate').map(({ id, severity, message, fix }) => ({ id, severity, message, fix })) : undefined,
  };
}

/** rotate --ca's record in the state folder pgssl uses for this server, when it says this server is in an overlap. */
function overlapInProgress(dataDirectory: string, port: number, limitations: Limitation[]): StatusEvidence['caRotation'] {
  try {
    const record = readCaRotationRecord(serverStateDir(dataDirectory).dir);
    if (record?.phase !== 'overlap' || record.server.dataDirectory !== dataDirectory || record.server.port !== port) return undefined;
    return { began: record.began, oldCa: record.old.subject, newCa: record.new.subject, clientCaFile: record.clientCaFile };
  } catch (error) {
    limitations.push({ what: 'a CA rotation in progress (rotate --ca)', reason: (error as Error).message });
    return undefined;
  }
}
