/**
 * Client sessions (walsenders included) and their TLS state: the
 * pg_stat_ssl ⋈ pg_stat_activity query a DBA would run. Changes nothing.
 */
import type { Client } from './connect.js';

export interface LiveSession {
  pid: number;
  user: string | null;
  database: string | null;
  clientAddr: string | null;
  applicationName: string | null;
  backendType: string;
  tls: boolean;
  tlsVersion: string | null;
  cipher: string | null;
}

/** TCP sessions other than our own; socket sessions need no TLS. */
export async function readTcpSessions(client: Client): Promise<LiveSession[]> {
  return (await querySessions(client)).map(({ gssEncrypted: _gss, backendStart: _start, sampledAt: _at, ...session }) => session);
}

/** One read of pg_stat_activity ⋈ pg_stat_ssl ⋈ pg_stat_gssapi: every TCP backend but ours, by pid. */
async function querySessions(client: Client): Promise<(LiveSession & { gssEncrypted: boolean; backendStart: string; sampledAt: string })[]> {
  const { rows } = await client.query(`
    SELECT a.pid, a.usename, a.datname, host(a.client_addr) AS client_addr, a.application_name, a.backend_type,
           coalesce(s.ssl, false) AS ssl, s.version, s.cipher, coalesce(g.encrypted, false) AS gss_enc,
           to_json(a.backend_start) #>> '{}' AS backend_start, to_json(now()) #>> '{}' AS sampled_at
      FROM pg_stat_activity a
      LEFT JOIN pg_stat_ssl s ON s.pid = a.pid
      LEFT JOIN pg_stat_gssapi g ON g.pid = a.pid
     WHERE a.client_addr IS NOT NULL AND a.pid <> pg_backend_pid()
     ORDER BY a.pid`);
  return rows.map((row) => ({
    pid: row.pid,
    user: row.usename,
    database: row.datname,
    clientAddr: row.client_addr,
    applicationName: row.application_name,
    backendType: row.backend_type,
    tls: row.ssl,
    tlsVersion: row.version,
    cipher: row.cipher,
    gssEncrypted: row.gss_enc,
    backendStart: row.backend_start,
    sampledAt: row.sampled_at,
  }));
}

export interface SampledSession extends LiveSession {
  gssEncrypted: boolean;
  backendStart: string;
  /** Each sample that showed this backend, first and last. */
  firstSeen: string;
  lastSeen: string;
}

/**
 * TCP sessions seen over `seconds` (0: one sample), one sample a second;
 * a backend is one session however many samples show it (pid and
 * backend_start, since PIDs are reused). Changes nothing.
 */
export async function sampleTcpSessions(client: Client, seconds: number, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<SampledSession[]> {
  const seen = new Map<string, SampledSession>();
  const until = Date.now() + seconds * 1000;
  for (;;) {
    for (const { sampledAt, ...row } of await querySessions(client)) {
      const key = `${row.pid}@${row.backendStart}`;
      const known = seen.get(key);
      if (known) known.lastSeen = sampledAt;
      else seen.set(key, { ...row, firstSeen: sampledAt, lastSeen: sampledAt });
    }
    if (Date.now() + 1000 > until) break;
    await sleep(1000);
  }
  return [...seen.values()];
}
