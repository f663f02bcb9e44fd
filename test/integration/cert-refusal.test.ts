/**
 * Server certificates that clients cannot use are refused before any change
 * (issue 9, items 5 and 6). First the libpq failure that motivates the
 * Ed25519 refusal, shown with the real psql; then `pgssl enable --cert-file`
 * with such files: exit 2, every problem named, the server untouched.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';
import { snapshot } from '../support/snapshot.js';

describe('server certificates clients cannot use', () => {
  let cluster: Cluster;
  let work: string;
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  /** A self-signed certificate for 127.0.0.1 with this key and these extra extensions. */
  const selfSigned = (name: string, keyArgs: string[], extensions: string[] = []) => {
    const cert = join(work, `${name}.crt`);
    const key = join(work, `${name}.key`);
    openssl('req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '90', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:FALSE', ...extensions.flatMap((e) => ['-addext', e]));
    return { cert, key };
  };
  const enable = (files: { cert: string; key: string }) =>
    runPgssl(['enable', '--yes', '--non-interactive', '--no-color', '--cert-file', files.cert, '--key-file', files.key], { env: cluster.env({ PGSSL_STATE_DIR: join(work, 'state'), HOME: work, PGPASSWORD: 'secret' }) });

  before(async () => {
    // scram on TCP, as initdb --auth-host=scram-sha-256 and Debian's pg_createcluster set it up.
    cluster = await startCluster({ auth: 'scram', password: 'secret' });
    work = mkdtempSync(join(tmpdir(), 'pgssl-certrefusal-'));
  });
  after(() => {
    cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const [algorithm, label] of [['ed25519', 'Ed25519'], ['ed448', 'Ed448']]) it(`psql cannot log in with SCRAM over TLS to a server with an ${label} certificate, unless channel_binding=disable`, async () => {
    const ed = selfSigned(algorithm, ['-newkey', algorithm]);
    cluster.writeOwned(join(cluster.dataDir, 'server.crt'), readFileSync(ed.cert), 0o644);
    cluster.writeOwned(join(cluster.dataDir, 'server.key'), readFileSync(ed.key), 0o600);
    await cluster.query('ALTER SYSTEM SET ssl = on');
    await cluster.reload();
    try {
      const conninfo = `host=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=require`;
      const sql = 'SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()';
      const failed = psql(conninfo, sql, { PGPASSWORD: 'secret' });
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /could not find digest for NID UNDEF/, 'libpq\'s own message, quoted by the refusal');
      const withoutBinding = psql(`${conninfo} channel_binding=disable`, sql, { PGPASSWORD: 'secret' });
      assert.equal(withoutBinding.code, 0, withoutBinding.stderr);
      assert.match(withoutBinding.stdout, /^TLSv1\.[23]$/, 'TLS itself works: only channel binding fails');
      // pgssl's own TLS probe logs in to nothing, so the handshake works; status must still say clients cannot log in.
      const status = await runPgssl(['status', '--json'], { env: cluster.env() });
      assert.equal(status.code, 3, status.stdout);
      const finding = parseJsonOutput(status).findings.find((f: { id: string }) => f.id === 'SERVED_CERT_UNSUITABLE');
      assert.equal(finding?.severity, 'error');
      assert.match(finding.items.join('\n'), new RegExp(`KEY_TYPE_UNSUITABLE: an ${label} certificate: .*could not find digest for NID UNDEF`));
    } finally {
      await cluster.query('ALTER SYSTEM RESET ssl');
      await cluster.reload();
      rmSync(join(cluster.dataDir, 'server.crt'));
      rmSync(join(cluster.dataDir, 'server.key'));
    }
  });

  it('enable --cert-file with an Ed25519 certificate: exit 2 with that explanation, nothing changed', async () => {
    const ed = selfSigned('ed25519-enable', ['-newkey', 'ed25519']);
    const before = await snapshot(cluster);
    const r = await enable(ed);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /KEY_TYPE_UNSUITABLE: .*Ed25519 certificate: psql and every libpq client that logs in with SCRAM over TLS fail with "could not find digest for NID UNDEF"/);
    assert.match(r.stderr, /fix: Use an ECDSA P-256 certificate/);
    assert.match(r.stderr, /nothing was changed/);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('enable --cert-file with a client certificate of a weak key: exit 2, both problems in one message, nothing changed', async () => {
    const client = selfSigned('client', ['-newkey', 'rsa:1024'], ['extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature']);
    const before = await snapshot(cluster);
    const r = await enable(client);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /KEY_TYPE_UNSUITABLE: .*RSA key of 1024 bits is too weak/);
    assert.match(r.stderr, /NOT_A_SERVER_CERT: .*extendedKeyUsage is clientAuth, without serverAuth/);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('enable --cert-file with a CA certificate and its key: exit 2, nothing changed', async () => {
    const ca = { cert: join(work, 'ca.crt'), key: join(work, 'ca.key') };
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', ca.key, '-out', ca.cert, '-days', '90', '-subj', '/CN=Example CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    const before = await snapshot(cluster);
    const r = await enable(ca);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /NOT_A_SERVER_CERT: .*keyUsage is keyCertSign, cRLSign, without digitalSignature/);
    assert.match(r.stderr, /NOT_A_SERVER_CERT: .*basicConstraints CA:TRUE/);
    assert.deepEqual(await snapshot(cluster), before);
  });
});
