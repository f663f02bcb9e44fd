/**
 * `pgssl enable` issues ECDSA P-256 certificates by default and RSA ones with
 * --key-type rsa; either way real clients verify the served certificate:
 * psql with sslmode=verify-full, node-pg with its CA and host name check, and
 * openssl s_client -verify_return_error.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { caFilesIn } from '../../src/certs/authority.js';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';

const remoteHba = `local   all   all                 trust
host    all   all   127.0.0.1/32  trust
host    all   all   0.0.0.0/0     trust
`;

const cases = [
  { title: 'ECDSA P-256 by default', args: [] as string[], keyType: 'ec', curve: 'prime256v1', bits: undefined, description: /ECDSA P-256/ },
  { title: 'RSA with --key-type rsa --rsa-bits 3072', args: ['--key-type', 'rsa', '--rsa-bits', '3072'], keyType: 'rsa', curve: undefined, bits: 3072, description: /RSA 3072/ },
  // CA:FALSE and no keyCertSign (RFC 5280 §4.2.1.3), yet pinned as its own root.
  { title: 'ECDSA --self-signed', args: ['--self-signed'], keyType: 'ec', curve: 'prime256v1', bits: undefined, description: /self-signed certificate \(ECDSA P-256/ },
];

for (const c of cases) {
  describe(`enable: ${c.title}`, () => {
    let cluster: Cluster | undefined;
    const work = mkdtempSync(join(tmpdir(), 'pgssl-enable-keys-'));
    const state = join(work, 'pgssl');
    after(() => {
      cluster?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('issues that key type (server, and CA when there is one); psql verify-full, node-pg and openssl s_client verify it', async () => {
      cluster = await startCluster({ hba: remoteHba });
      const r = await runPgssl(['enable', '--yes', '--json', ...c.args], { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      const report = parseJsonOutput(r);
      assert.match(report.certificate.description, c.description);
      const selfSigned = c.args.includes('--self-signed');
      const root = selfSigned ? join(cluster.dataDir, 'server.crt') : caFilesIn(state).certPath;
      for (const path of [join(cluster.dataDir, 'server.crt'), ...(selfSigned ? [] : [root])]) {
        const key = new X509Certificate(readFileSync(path)).publicKey;
        assert.equal(key.asymmetricKeyType, c.keyType, path);
        assert.equal(key.asymmetricKeyDetails?.namedCurve, c.curve, path);
        assert.equal(key.asymmetricKeyDetails?.modulusLength, c.bits, path);
      }
      const session = psql(`host=localhost hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${root}`, 'SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(session.code, 0, session.stderr);
      assert.match(session.stdout, /^TLSv1\.[23]$/);
      // node-pg as applications configure verify-full: the CA, rejectUnauthorized (its default) and the host name checked.
      const client = new pg.Client({ host: 'localhost', port: cluster.port, user: 'postgres', database: 'postgres', ssl: { ca: readFileSync(root, 'utf8'), servername: 'localhost' } });
      try {
        await client.connect();
        const [row] = (await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows;
        assert.equal(row.ssl, true);
      } finally {
        await client.end().catch(() => undefined);
      }
      const handshake = spawnSync('openssl', ['s_client', '-starttls', 'postgres', '-connect', `127.0.0.1:${cluster.port}`, '-CAfile', root, '-verify_hostname', 'localhost', '-verify_return_error', '-brief'], { input: '', encoding: 'utf8', timeout: 20_000 });
      assert.equal(handshake.status, 0, handshake.stderr);
      assert.match(handshake.stderr, /Verification: OK/);
      assert.match(handshake.stderr, c.keyType === 'ec' ? /^Signature type: ECDSA$/m : /^Signature type: RSA-PSS$/m);
    });
  });
}

describe('enable: --rsa-bits without --key-type rsa', () => {
  it('is refused before connecting (exit 2, the fix named), and writes no CA', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pgssl-enable-keys-'));
    try {
      const r = await runPgssl(['enable', '--yes', '--rsa-bits', '4096', '-h', '127.0.0.1', '-p', '1'], { env: cleanEnv({ HOME: work, PGSSL_STATE_DIR: join(work, 'pgssl') }) });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--rsa-bits goes with --key-type rsa; ECDSA keys \(the default\) are P-256\. Add --key-type rsa for an RSA key, or drop --rsa-bits\./);
      assert.deepEqual(readdirSync(work), []);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
