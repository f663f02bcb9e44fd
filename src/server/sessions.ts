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
  const { rows } = await client.query(`
    SELECT a.pid, a.usename, a.datname, host(a.client_addr) AS client_addr,
           a.application_name, a.backend_type, coalesce(s.ssl, false) AS ssl, s.version, s.cipher
      FROM pg_stat_activity a
      LEFT JOIN pg_stat_ssl s ON s.pid = a.pid
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
  }));
}
