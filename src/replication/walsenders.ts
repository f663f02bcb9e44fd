/**
 * The standbys streaming from this server and whether each is on TLS: the
 * pg_stat_replication ⋈ pg_stat_ssl query a DBA would run. Changes nothing.
 * (Client addresses are hidden from roles without pg_read_all_stats.)
 */
import type { Client } from '../server/connect.js';

export interface Walsender {
  pid: number;
  applicationName: string;
  clientAddr: string | null;
  /** pg_stat_replication.state: startup, catchup, streaming, backup, stopping. */
  state: string | null;
  tls: boolean;
  tlsVersion: string | null;
}

export async function readWalsenders(client: Client): Promise<Walsender[]> {
  const { rows } = await client.query(`
    SELECT r.pid, r.application_name, host(r.client_addr) AS client_addr, r.state,
           coalesce(s.ssl, false) AS ssl, s.version
      FROM pg_stat_replication r
      LEFT JOIN pg_stat_ssl s ON s.pid = r.pid
     ORDER BY r.application_name, r.pid`);
  return rows.map((row) => ({ pid: row.pid, applicationName: row.application_name, clientAddr: row.client_addr, state: row.state, tls: row.ssl, tlsVersion: row.version }));
}

/** One line per walsender, as the report, the wizard and status show it. */
export function walsenderText(w: Walsender): string {
  const where = w.clientAddr ?? 'the local socket';
  return `${w.applicationName || '(no application_name)'} from ${where}, ${w.state ?? 'unknown state'}: ${w.tls ? `TLS ${w.tlsVersion ?? ''}`.trim() : w.clientAddr === null ? 'socket (no TLS needed)' : 'no TLS'} (pid ${w.pid})`;
}
