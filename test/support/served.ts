/** What a client sees of a server's certificate, with real clients (openssl s_client, psql), never pgssl's own probe. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import type { Cluster } from './cluster.js';
import { psql } from './psql.js';

/** SHA-256 of the certificate a fresh handshake gets, as openssl sees it (lower-case hex). */
export function servedFingerprint(cluster: Cluster): string {
  const shown = spawnSync('openssl', ['s_client', '-starttls', 'postgres', '-connect', `127.0.0.1:${cluster.port}`], { input: '', encoding: 'utf8', timeout: 30_000 });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(shown.stdout)?.[0];
  assert.ok(pem, `openssl s_client got no certificate: ${shown.stderr}`);
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: pem, encoding: 'utf8' });
  return out.split('=')[1].trim().replace(/:/g, '').toLowerCase();
}

/** psql with sslmode=verify-full against `caFile`, as "localhost" on 127.0.0.1; `extra` adds conninfo (sslcert, user…). */
export function verifyFull(cluster: Cluster, caFile: string, extra = 'user=postgres') {
  return psql(`host=localhost hostaddr=127.0.0.1 port=${cluster.port} dbname=postgres sslmode=verify-full sslrootcert=${caFile} ${extra}`, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
}
