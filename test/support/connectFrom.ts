/**
 * A login to the cluster's 127.0.0.1 from another loopback source address
 * (127.0.0.2 is covered only by the remote-looking rules), with or without
 * TLS: "connected", or the server's own refusal.
 */
import pg from 'pg';
import { socketFrom } from '../../src/server/boundSocket.js';
import type { Cluster } from './cluster.js';

export async function connectFrom(cluster: Cluster, source: string, ssl: boolean): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', ssl: ssl ? { rejectUnauthorized: false } : false, stream: socketFrom(source) } as pg.ClientConfig);
  try {
    await client.connect();
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}
