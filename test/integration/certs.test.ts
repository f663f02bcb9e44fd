/**
 * Generated certificates on a real server, checked by real clients: psql with
 * sslmode=verify-full by name and by address, a wrong name refused, openssl
 * s_client seeing the served chain, and a client certificate from
 * `pgssl client-cert` logging in with cert authentication.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { caFilesIn, issueWithStateCa } from '../../src/certs/authority.js';
import { planTlsFiles } from '../../src/certs/install.js';
import { defaultKeySpec } from '../../src/certs/keys.js';
import { dataDirectoryOwner } from '../../src/files/owner.js';
import { backupOnlyWriter } from '../../src/flow/changes.js';
import { runPgssl } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';
import { tempDir } from '../support/tempDir.js';

let cluster: Cluster;
const stateDir = join(tempDir('pgssl-state'), 'pgssl');

before(async () => {
  cluster = await startCluster();
  const issued = await issueWithStateCa(stateDir, { commonName: 'localhost', subjectAltNames: ['localhost', '127.0.0.1'], days: 397, key: defaultKeySpec });
  const plan = planTlsFiles({ certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, caCertificatePem: issued.ca!.certificatePem }, cluster.dataDir, cluster.dataDir);
  const writer = backupOnlyWriter(() => tempDir('pgssl-backups'));
  for (const file of plan) writer.writeFile({ path: file.path, content: file.content, mode: file.mode, owner: dataDirectoryOwner(cluster.dataDir), why: file.role });
  for (const file of plan) await cluster.query(`ALTER SYSTEM SET ${file.setting} = '${file.settingValue}'`);
  await cluster.query('ALTER SYSTEM SET ssl = on');
  await cluster.reload();
});
after(() => cluster?.stop());

describe('a server certificate from the pgssl CA', () => {
  it('is installed owned by the server user, key 0600, with paths relative to the data directory', async () => {
    const key = statSync(join(cluster.dataDir, 'server.key'));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal(key.uid, cluster.osUser.uid);
    const [{ ssl_key_file }] = await cluster.query<{ ssl_key_file: string }>('SHOW ssl_key_file');
    assert.equal(ssl_key_file, 'server.key');
    assert.equal(statSync(caFilesIn(stateDir).keyPath).mode & 0o777, 0o600, 'the CA key stays in the state folder, 0600');
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
  });
  it('psql sslmode=verify-full succeeds by host name and by IP address', () => {
    const root = caFilesIn(stateDir).certPath;
    for (const host of ['localhost', '127.0.0.1']) {
      const r = psql(`host=${host} port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${root}`, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 't');
    }
  });
  it('verify-full refuses a host name the certificate does not list', () => {
    const r = psql(`host=wrong.example hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${caFilesIn(stateDir).certPath}`, 'SELECT 1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /does not match host name "wrong\.example"/);
  });
  it('openssl s_client -starttls postgres verifies the served certificate', () => {
    const out = execFileSync('openssl', ['s_client', '-starttls', 'postgres', '-connect', `127.0.0.1:${cluster.port}`, '-CAfile', caFilesIn(stateDir).certPath, '-verify_hostname', 'localhost', '-brief'], {
      input: '',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    assert.ok(out !== undefined);
  });
});

describe('pgssl client-cert', () => {
  it('issues a certificate that logs in with cert authentication', async () => {
    const out = tempDir('pgssl-client');
    const r = await runPgssl(['client-cert', 'alice', '--out-dir', out], { env: cluster.env({ PGSSL_STATE_DIR: stateDir }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sslmode=verify-full sslrootcert=.*sslcert=.*alice\.crt sslkey=.*alice\.key/);
    assert.equal(statSync(join(out, 'alice.key')).mode & 0o777, 0o600);
    await cluster.query('CREATE ROLE alice LOGIN');
    writeFileSync(cluster.hbaFile, `local all all trust\nhostssl all alice 127.0.0.1/32 cert\nhost all postgres 127.0.0.1/32 trust\n`);
    await cluster.reload();
    const conn = `host=localhost port=${cluster.port} user=alice dbname=postgres sslmode=verify-full sslrootcert=${caFilesIn(stateDir).certPath}`;
    const withCert = psql(`${conn} sslcert=${join(out, 'alice.crt')} sslkey=${join(out, 'alice.key')}`, 'SELECT current_user');
    assert.equal(withCert.code, 0, withCert.stderr);
    assert.equal(withCert.stdout, 'alice');
    const withoutCert = psql(`${conn} sslcert=/nonexistent sslkey=/nonexistent`, 'SELECT 1');
    assert.notEqual(withoutCert.code, 0);
    assert.match(withoutCert.stderr, /certificate authentication failed|connection requires a valid client certificate/);
  });
  it('refuses to overwrite, and to sign with a CA key that does not match, writing nothing', async () => {
    const out = tempDir('pgssl-client');
    writeFileSync(join(out, 'bob.key'), 'keep me\n');
    const exists = await runPgssl(['client-cert', 'bob', '--out-dir', out], { env: cluster.env({ PGSSL_STATE_DIR: stateDir }) });
    assert.equal(exists.code, 2);
    assert.match(exists.stderr, /bob\.key already exists; nothing was written/);
    const wrongKey = join(out, 'wrong.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', wrongKey], { stdio: 'ignore' });
    const mismatch = await runPgssl(['client-cert', 'carol', '--out-dir', out, '--ca-cert', caFilesIn(stateDir).certPath, '--ca-key', wrongKey], { env: cluster.env() });
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /wrong\.key is not the private key of .*ca\.crt/);
    assert.throws(() => statSync(join(out, 'carol.crt')));
    assert.throws(() => statSync(join(out, 'carol.key')));
  });
});
