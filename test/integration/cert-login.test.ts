/**
 * `cert` authentication with certificates from `pgssl client-cert`, on a real
 * server: for each role name — plain, with `_` or `@`, non-ASCII — a role of
 * exactly that name logs in with its certificate and `current_user` is that
 * name; the certificate for šlice does not log in as alice (PostgreSQL
 * compares the CN byte for byte, and the CN must be exactly the name).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { caFilesIn, issueWithStateCa } from '../../src/certs/authority.js';
import { planTlsFiles } from '../../src/certs/install.js';
import { dataDirectoryOwner } from '../../src/files/owner.js';
import { backupOnlyWriter } from '../../src/flow/changes.js';
import { tempDir } from '../support/tempDir.js';
import { defaultKeySpec } from '../../src/certs/keys.js';
import { runPgssl } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';

const names = ['alice', 'app_user', 'bob@example.com', 'šlice', '名前'];
const work = mkdtempSync(join(tmpdir(), 'pgssl-cert-login-'));
const stateDir = join(work, 'state');
const out = join(work, 'clients');
let cluster: Cluster;

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

before(async () => {
  cluster = await startCluster();
  mkdirSync(out);
  const issued = await issueWithStateCa(stateDir, { commonName: 'localhost', subjectAltNames: ['localhost', '127.0.0.1'], days: 30, key: defaultKeySpec }, (dir) => mkdirSync(dir, { recursive: true, mode: 0o700 }));
  // root.crt (the CA) becomes ssl_ca_file: the server verifies client certificates against it.
  const plan = planTlsFiles({ certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, caCertificatePem: issued.ca!.certificatePem }, cluster.dataDir, cluster.dataDir);
  const writer = backupOnlyWriter(() => tempDir('pgssl-backups'));
  for (const file of plan) writer.writeFile({ path: file.path, content: file.content, mode: file.mode, owner: dataDirectoryOwner(cluster.dataDir), why: file.role });
  for (const file of plan) await cluster.query(`ALTER SYSTEM SET ${file.setting} = '${file.settingValue}'`);
  await cluster.query('ALTER SYSTEM SET ssl = on');
  for (const name of names) await cluster.query(`CREATE ROLE ${quoteIdent(name)} LOGIN`);
  cluster.writeOwned(cluster.hbaFile, Buffer.from('local all all trust\nhostssl all all 127.0.0.1/32 cert\n'), 0o600);
  await cluster.reload();
});
after(() => {
  cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

function login(user: string, client: string) {
  const conninfo = `host=localhost hostaddr=127.0.0.1 port=${cluster.port} dbname=postgres sslmode=verify-full sslrootcert=${caFilesIn(stateDir).certPath} sslcert=${join(out, `${client}.crt`)} sslkey=${join(out, `${client}.key`)} user='${user.replace(/['\\]/g, '\\$&')}'`;
  return psql(conninfo, 'SELECT current_user');
}

describe('cert authentication with pgssl client-cert', () => {
  it('each role logs in with its own certificate, as exactly that role (ECDSA, the default)', async () => {
    for (const name of names) {
      const r = await runPgssl(['client-cert', name, '--out-dir', out], { env: cluster.env({ PGSSL_STATE_DIR: stateDir }) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(statSync(join(out, `${name}.key`)).mode & 0o777, 0o600);
      const session = login(name, name);
      assert.equal(session.code, 0, `${name}: ${session.stderr}`);
      assert.equal(session.stdout, name, `${name}: current_user`);
    }
  });
  it("šlice's certificate does not log in as alice, nor alice's as šlice", () => {
    for (const [user, client] of [['alice', 'šlice'], ['šlice', 'alice'], ['app_user', 'alice']]) {
      const r = login(user, client);
      assert.notEqual(r.code, 0, `${client}'s certificate must not log in as ${user}`);
      assert.match(r.stderr, new RegExp(`certificate authentication failed for user "${user}"`));
    }
  });
  it('an RSA client certificate (--key-type rsa) logs in too', async () => {
    const rsaOut = join(work, 'rsa');
    mkdirSync(rsaOut);
    const r = await runPgssl(['client-cert', 'app_user', '--key-type', 'rsa', '--out-dir', rsaOut], { env: cluster.env({ PGSSL_STATE_DIR: stateDir }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(rsaOut, 'app_user.crt'), 'utf8'), /BEGIN CERTIFICATE/);
    const conninfo = `host=localhost hostaddr=127.0.0.1 port=${cluster.port} dbname=postgres sslmode=verify-full sslrootcert=${caFilesIn(stateDir).certPath} sslcert=${join(rsaOut, 'app_user.crt')} sslkey=${join(rsaOut, 'app_user.key')} user=app_user`;
    const session = psql(conninfo, 'SELECT current_user');
    assert.equal(session.code, 0, session.stderr);
    assert.equal(session.stdout, 'app_user');
  });
});
