/**
 * verifyTls against real servers with scram on TCP: the full check when the
 * login works (SCRAM with channel binding, as libpq logs in, then
 * pg_stat_ssl), the handshake as the evidence when no password is at hand
 * (and the report says what was not checked and how to get it), a
 * certificate that breaks channel binding failing as it fails for psql, and
 * --allow-name-mismatch's chain-only check. Compared with the real psql.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConnectionTarget, type ConnectionTarget } from '../../src/server/connectionTarget.js';
import { verifyTls } from '../../src/server/verifyTls.js';
import { opensslServerCert, startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';

const password = 'pgssl-Secret-1';

function admin(cluster: Cluster, env: Record<string, string> = {}, extra: Partial<ConnectionTarget> = {}): ConnectionTarget {
  return { ...resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port), username: 'postgres', dbname: 'postgres' }, { HOME: '/nonexistent', ...env }), ...extra };
}

/** Installs cert/key in the data directory and turns TLS on, by hand (what a DBA would do). */
async function serve(cluster: Cluster, files: { cert: string; key: string }): Promise<void> {
  cluster.writeOwned(join(cluster.dataDir, 'server.crt'), readFileSync(files.cert), 0o644);
  cluster.writeOwned(join(cluster.dataDir, 'server.key'), readFileSync(files.key), 0o600);
  await cluster.query("ALTER SYSTEM SET ssl_cert_file = 'server.crt'");
  await cluster.query("ALTER SYSTEM SET ssl_key_file = 'server.key'");
  await cluster.query('ALTER SYSTEM SET ssl = on');
  await cluster.reload();
}

/** An Ed25519 CA and a server certificate it signs: the signature has no hash, which channel binding needs. */
function ed25519ServerCert(dir: string): { cert: string; key: string; ca: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const [ca, caKey, key, csr, cert, ext] = ['ed-ca.crt', 'ed-ca.key', 'ed-server.key', 'ed-server.csr', 'ed-server.crt', 'ed-server.ext'].map((n) => join(dir, n));
  openssl('req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', caKey, '-out', ca, '-days', '30', '-subj', '/CN=pgssl test Ed25519 CA');
  openssl('req', '-newkey', 'ed25519', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost');
  writeFileSync(ext, 'subjectAltName = DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  openssl('x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '30', '-extfile', ext);
  return { cert, key, ca };
}

describe('verifyTls on a scram cluster with an RSA certificate', () => {
  let cluster: Cluster;
  let files: { cert: string; key: string; ca: string };
  before(async () => {
    cluster = await startCluster({ auth: 'scram', password });
    files = opensslServerCert(cluster.dir);
    await serve(cluster, files);
  });
  after(() => cluster?.stop());
  const where = () => ({ host: '127.0.0.1', port: cluster.port, verifyName: '127.0.0.1', caPem: readFileSync(files.ca, 'utf8'), expectedCertificatePem: readFileSync(files.cert, 'utf8') });

  it('with the password: logs in with SCRAM channel binding and reads pg_stat_ssl; nothing left unchecked', async () => {
    const result = await verifyTls(admin(cluster, { PGPASSWORD: password }), where());
    assert.equal(result.ok, true, result.reason);
    assert.equal(result.authentication, 'SCRAM-SHA-256-PLUS');
    assert.equal(result.hostNameChecked, true);
    assert.equal(result.pgStatSsl?.ssl, true);
    assert.equal(result.servedFingerprint, result.expectedFingerprint);
    assert.deepEqual(result.notChecked, []);
    // psql insists on channel binding and gets in: the server offers it, the way pgssl logged in.
    const viaPsql = psql(`host=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${files.ca} channel_binding=require`, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', { PGPASSWORD: password });
    assert.equal(viaPsql.code, 0, viaPsql.stderr);
    assert.equal(viaPsql.stdout, 't');
  });

  it('without a password: the handshake is the evidence, and the result says what was not checked and names PGPASSWORD and ~/.pgpass', async () => {
    const result = await verifyTls(admin(cluster), where());
    assert.equal(result.ok, true, result.reason);
    assert.equal(result.loginFailure, 'password-required');
    assert.equal(result.pgStatSsl, undefined);
    assert.equal(result.protocol?.startsWith('TLS'), true);
    assert.equal(result.servedFingerprint, result.expectedFingerprint);
    assert.equal(result.notChecked.length, 1);
    assert.equal(result.notChecked[0], result.pgStatSslSkipped);
    assert.match(result.pgStatSslSkipped!, /^pg_stat_ssl was not read: over TCP the server asks for a password for "postgres" \(so TLS passes pg_hba\.conf\)/);
    assert.match(result.pgStatSslSkipped!, /verify-full handshake \(chain, host name "127\.0\.0\.1", TLSv1\.[23], /);
    assert.match(result.pgStatSslSkipped!, /PGPASSWORD or ~\/\.pgpass \(\/nonexistent\/\.pgpass\)/);
  });

  it('with a wrong password: still proven by the handshake, and says the password was refused', async () => {
    const result = await verifyTls(admin(cluster, { PGPASSWORD: 'wrong' }), where());
    assert.equal(result.ok, true, result.reason);
    assert.equal(result.loginFailure, 'password-refused');
    assert.match(result.pgStatSslSkipped!, /refused the password given for "postgres"/);
    assert.match(result.pgStatSslSkipped!, /give the right password of "postgres" through PGPASSWORD or ~\/\.pgpass/);
  });

  it('a name the certificate does not cover fails verify-full', async () => {
    const result = await verifyTls(admin(cluster, { PGPASSWORD: password }), { ...where(), verifyName: 'db.pgssl.invalid' });
    assert.equal(result.ok, false);
    assert.match(result.reason!, /does not verify as "db\.pgssl\.invalid" against the CA: (ERR_TLS_CERT_ALTNAME_INVALID|.*does not match)/);
  });

  it('checkHostName: false (--allow-name-mismatch) verifies the chain only and says the name was not checked', async () => {
    const result = await verifyTls(admin(cluster, { PGPASSWORD: password }), { ...where(), verifyName: 'db.pgssl.invalid', checkHostName: false });
    assert.equal(result.ok, true, result.reason);
    assert.equal(result.hostNameChecked, false);
    assert.equal(result.pgStatSsl?.ssl, true);
    assert.equal(result.notChecked.length, 1);
    assert.match(result.notChecked[0], /^the host name: the certificate was verified against the CA only \(--allow-name-mismatch\)/);
  });

  it('checkHostName: false without a password: both gaps are named', async () => {
    const result = await verifyTls(admin(cluster), { ...where(), verifyName: 'db.pgssl.invalid', checkHostName: false });
    assert.equal(result.ok, true, result.reason);
    assert.equal(result.notChecked.length, 2);
    assert.match(result.notChecked[1], /the TLS evidence is the verify-ca handshake \(chain, TLSv1/);
  });

  it('checkHostName: false still refuses a chain from another CA', async () => {
    const otherDir = join(cluster.dir, 'other-ca');
    mkdirSync(otherDir);
    const other = opensslServerCert(otherDir, { cn: 'other' });
    const result = await verifyTls(admin(cluster, { PGPASSWORD: password }), { ...where(), caPem: readFileSync(other.ca, 'utf8'), checkHostName: false });
    assert.equal(result.ok, false);
    assert.match(result.reason!, /does not verify against the CA: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify)/i);
  });
});

describe('verifyTls with an Ed25519 certificate (no hash for channel binding)', () => {
  let cluster: Cluster;
  let files: { cert: string; key: string; ca: string };
  before(async () => {
    cluster = await startCluster({ auth: 'scram', password });
    files = ed25519ServerCert(cluster.dir);
    await serve(cluster, files);
  });
  after(() => cluster?.stop());
  const where = () => ({ host: '127.0.0.1', port: cluster.port, verifyName: '127.0.0.1', caPem: readFileSync(files.ca, 'utf8'), expectedCertificatePem: readFileSync(files.cert, 'utf8') });

  it('psql cannot log in with its default channel binding, only with channel_binding=disable', () => {
    const conninfo = `host=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${files.ca}`;
    const failed = psql(conninfo, 'SELECT 1', { PGPASSWORD: password });
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /could not find digest for NID UNDEF/);
    const withoutBinding = psql(`${conninfo} channel_binding=disable`, 'SELECT 1', { PGPASSWORD: password });
    assert.equal(withoutBinding.code, 0, withoutBinding.stderr);
  });

  it('fails pgssl\'s verification the same way, naming channel binding and the fix', async () => {
    const result = await verifyTls(admin(cluster, { PGPASSWORD: password }), where());
    assert.equal(result.ok, false);
    assert.equal(result.loginFailure, 'channel-binding');
    assert.match(result.reason!, /SCRAM channel binding \(tls-server-end-point, what psql and every libpq client use by default\) fails: .*digest/);
    assert.match(result.reason!, /Use an ECDSA \(P-256\) or RSA server certificate/);
  });

  it('passes when channel binding is disabled, as psql does with channel_binding=disable: binding is what fails', async () => {
    const result = await verifyTls(admin(cluster, { PGPASSWORD: password }, { channelBinding: 'disable' }), where());
    assert.equal(result.ok, true, result.reason);
    assert.equal(result.authentication, 'SCRAM-SHA-256');
  });
});
