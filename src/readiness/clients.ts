/**
 * Clients seen without TLS: connections from the log and live sessions
 * grouped by who they are (role, database, address, application, kind), with
 * when they were first and last seen and how often. Pure.
 */
import type { SeenConnection } from './logConnections.js';

export interface PlainClient {
  user: string;
  database?: string;
  address?: string;
  application?: string;
  replication: boolean;
  gssEncrypted: boolean;
  firstSeen?: string;
  lastSeen?: string;
  count: number;
  sources: ('log' | 'session')[];
}

export function plainClients(connections: SeenConnection[]): PlainClient[] {
  const byKey = new Map<string, PlainClient>();
  for (const c of connections) {
    if (c.tls) continue;
    const key = JSON.stringify([c.user, c.database ?? null, c.address ?? null, c.application ?? null, c.replication, c.gssEncrypted]);
    let client = byKey.get(key);
    if (!client) {
      client = { user: c.user, database: c.database, address: c.address, application: c.application, replication: c.replication, gssEncrypted: c.gssEncrypted, count: 0, sources: [] };
      byKey.set(key, client);
    }
    client.count++;
    if (!client.sources.includes(c.source)) client.sources.push(c.source);
    if (c.time && (!client.firstSeen || earlier(c.time, client.firstSeen))) client.firstSeen = c.time;
    const last = c.lastTime ?? c.time;
    if (last && (!client.lastSeen || !earlier(last, client.lastSeen))) client.lastSeen = last;
  }
  return [...byKey.values()];
}

/** Log times read as dates when JavaScript can (UTC, numeric offsets); otherwise the order seen. */
function earlier(a: string, b: string): boolean {
  const x = Date.parse(a);
  const y = Date.parse(b);
  return Number.isFinite(x) && Number.isFinite(y) ? x < y : false;
}
