/** Puts a cluster into a known TLS state by hand (what a DBA would do), independent of pgssl's own code. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from './cluster.js';
import { opensslServerCert } from './cluster.js';

export interface InstalledCert {
  certPath: string;
  keyPath: string;
  caPath: string;
}

export function installOpensslCert(cluster: Cluster, options: { days?: number; dir?: string } = {}): InstalledCert {
  const files = opensslServerCert(cluster.dir, { days: options.days });
  const dir = options.dir ?? cluster.dataDir;
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  const caPath = join(dir, 'root.crt');
  cluster.writeOwned(certPath, readFileSync(files.cert), 0o644);
  cluster.writeOwned(keyPath, readFileSync(files.key), 0o600);
  cluster.writeOwned(caPath, readFileSync(files.ca), 0o644);
  return { certPath, keyPath, caPath };
}

export async function turnSslOn(cluster: Cluster, cert: InstalledCert): Promise<void> {
  await cluster.query(`ALTER SYSTEM SET ssl_cert_file = '${cert.certPath}'`);
  await cluster.query(`ALTER SYSTEM SET ssl_key_file = '${cert.keyPath}'`);
  await cluster.query(`ALTER SYSTEM SET ssl = on`);
  await cluster.reload();
}

/** Loopback stays `host`, everything else must use TLS: a compliant pg_hba.conf. */
export const enforcedHba = `# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
host    all       all   ::1/128       trust
hostssl all       all   0.0.0.0/0     trust
hostssl replication all 0.0.0.0/0     trust
`;
