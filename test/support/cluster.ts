/**
 * The test harness: pgssl's throwaway clusters (src/cluster) plus what tests
 * need on top — SQL as the superuser, reload-and-wait, a client environment,
 * and certificates made with openssl, independent of pgssl's own generator.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { cleanEnv, freePort, startThrowawayCluster, type ThrowawayCluster, type ThrowawayOptions } from '../../src/cluster/throwaway.js';
import { testBinDir } from './pgbin.js';

export { cleanEnv, freePort };
export type ClusterOptions = ThrowawayOptions;

export interface Cluster extends ThrowawayCluster {
  /** Environment for a client (psql, pgssl) connecting over the socket as postgres. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], conn?: Partial<pg.ClientConfig>): Promise<T[]>;
  reload(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const base = await startThrowawayCluster({ ...options, binDir: options.binDir ?? testBinDir() });
  const cluster: Cluster = Object.assign(base, {
    env: (extra: Record<string, string> = {}) => cleanEnv({ PGHOST: base.socketDir, PGPORT: String(base.port), PGUSER: 'postgres', PGDATABASE: 'postgres', ...extra }),
    async query<T>(sql: string, params?: unknown[], conn: Partial<pg.ClientConfig> = {}): Promise<T[]> {
      const client = new pg.Client({ host: base.socketDir, port: base.port, user: 'postgres', database: 'postgres', ...conn });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    async reload(): Promise<void> {
      await cluster.query('SELECT pg_reload_conf()');
      // Reload is asynchronous: wait until a new backend sees the new load time.
      const before = Date.now();
      while (Date.now() - before < 10_000) {
        const [row] = await cluster.query<{ loaded: Date }>('SELECT pg_conf_load_time() AS loaded');
        if (row.loaded.getTime() >= before - 1000) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('reload did not take effect within 10 s');
    },
  });
  return cluster;
}

/** Makes a CA-signed server certificate with openssl, for tests that must not depend on pgssl's own generator. */
export function opensslServerCert(dir: string, options: { days?: number; cn?: string; san?: string } = {}): { cert: string; key: string; ca: string } {
  const ca = join(dir, 'test-ca.crt');
  const caKey = join(dir, 'test-ca.key');
  const key = join(dir, 'test-server.key');
  const csr = join(dir, 'test-server.csr');
  const cert = join(dir, 'test-server.crt');
  const ext = join(dir, 'test-server.ext');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '30', '-subj', '/CN=pgssl test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${options.cn ?? 'localhost'}`);
  writeFileSync(ext, `subjectAltName = ${options.san ?? 'DNS:localhost,IP:127.0.0.1'}\nextendedKeyUsage = serverAuth\n`);
  openssl('x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', String(options.days ?? 30), '-extfile', ext);
  return { cert, key, ca };
}
