/** `pgssl cert inspect` as a user runs it: exit 0 sound, 3 a problem, 2 unreadable or not PEM. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverOsUser } from '../../src/cluster/osUser.js';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, opensslServerCert } from '../support/cluster.js';
import { tempDir } from '../support/tempDir.js';

const env = cleanEnv({ HOME: '/nonexistent' });
const dir = tempDir('pgssl-inspect');
let files: { cert: string; key: string; ca: string };
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
const ids = (r: { stdout: string; stderr: string; code: number | null }) => parseJsonOutput(r).problems.map((p: { id: string }) => p.id) as string[];

/** A certificate signed by the test CA with these extensions (openssl x509 -extfile), and its key. */
function issued(name: string, extensions: string, keyArgs = ['-newkey', 'rsa:2048']): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  openssl('req', ...keyArgs, '-nodes', '-keyout', key, '-out', join(dir, `${name}.csr`), '-subj', `/CN=${name}`);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl('x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', files.ca, '-CAkey', join(dir, 'test-ca.key'), '-CAcreateserial', '-out', cert, '-days', '90', '-extfile', join(dir, `${name}.ext`));
  chmodSync(key, 0o600);
  return { cert, key };
}

before(() => {
  files = opensslServerCert(dir, { san: 'DNS:db1.example.com,IP:10.0.0.5', days: 90 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pgssl cert inspect', () => {
  it('exit 0 for a sound pair, chain and names', async () => {
    const r = await runPgssl(['cert', 'inspect', files.cert, files.key, '--ca', files.ca, '--host', 'db1.example.com', '--host', '10.0.0.5', '--no-color'], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /key matches certificate: yes/);
    assert.match(r.stdout, /chain: verified \(2 certificates\)/);
    assert.match(r.stdout, /names: DNS:db1\.example\.com, IP:10\.0\.0\.5/);
  });
  it('exit 3 for a name that is not covered or a key that does not match, with --json', async () => {
    const name = await runPgssl(['cert', 'inspect', files.cert, '--host', 'db2.example.com', '--json'], { env });
    assert.equal(name.code, 3);
    assert.deepEqual(ids(name), ['NAME_NOT_COVERED']);
    const otherKey = join(dir, 'other.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', otherKey], { stdio: 'ignore' });
    chmodSync(otherKey, 0o600);
    const mismatch = await runPgssl(['cert', 'inspect', files.cert, otherKey], { env });
    assert.equal(mismatch.code, 3);
    assert.match(mismatch.stdout, /KEY_MISMATCH/);
  });
  it('exit 2 for a missing file or one that is not PEM', async () => {
    const missing = await runPgssl(['cert', 'inspect', join(dir, 'nope.crt')], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.crt: no such file/);
    writeFileSync(join(dir, 'garbage.crt'), 'hello');
    const garbage = await runPgssl(['cert', 'inspect', join(dir, 'garbage.crt')], { env });
    assert.equal(garbage.code, 2);
    assert.match(garbage.stdout, /NOT_PEM: .*holds no PEM block/);
  });
});

describe('pgssl cert inspect: is it a server certificate PostgreSQL clients accept', () => {
  it('exit 3 NOT_A_SERVER_CERT for a client-only certificate (extendedKeyUsage clientAuth)', async () => {
    const client = issued('client', 'subjectAltName = DNS:db1.example.com\nextendedKeyUsage = clientAuth\n');
    const r = await runPgssl(['cert', 'inspect', client.cert, client.key, '--json'], { env });
    assert.equal(r.code, 3, r.stdout);
    assert.deepEqual(ids(r), ['NOT_A_SERVER_CERT']);
    assert.match(parseJsonOutput(r).problems[0].message, /extendedKeyUsage is clientAuth, without serverAuth.*this is a client certificate/);
  });
  it('exit 3 NOT_A_SERVER_CERT for a CA certificate given as the server certificate, every problem listed', async () => {
    const intermediate = issued('intermediate', 'basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n');
    const r = await runPgssl(['cert', 'inspect', intermediate.cert, '--json'], { env });
    assert.equal(r.code, 3);
    const problems = parseJsonOutput(r).problems as { id: string; severity: string; message: string }[];
    assert.deepEqual(problems.map((p) => [p.id, p.severity]), [['NOT_A_SERVER_CERT', 'error'], ['NOT_A_SERVER_CERT', 'error'], ['NO_SUBJECT_ALT_NAME', 'warning']]);
    assert.match(problems[0].message, /keyUsage is keyCertSign, cRLSign, without digitalSignature or keyEncipherment/);
    assert.match(problems[1].message, /a CA certificate \(basicConstraints CA:TRUE\), not a server certificate/);
  });
  it('a self-signed CA:TRUE certificate (openssl req -x509, as in the PostgreSQL docs) is a warning that names the clients that refuse it', async () => {
    const cert = join(dir, 'docs.crt');
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'docs.key'), '-out', cert, '-days', '90', '-subj', '/CN=db1.example.com', '-addext', 'subjectAltName=DNS:db1.example.com');
    const r = await runPgssl(['cert', 'inspect', cert, '--json'], { env });
    const problems = parseJsonOutput(r).problems as { id: string; severity: string; message: string }[];
    assert.deepEqual(problems.map((p) => [p.id, p.severity]), [['NOT_A_SERVER_CERT', 'warning']]);
    assert.match(problems[0].message, /libpq accepts it, but rustls-based clients and Python cryptography refuse/);
    assert.equal(r.code, 3, 'a warning is still a problem for cert inspect');
  });
  it('a CN-only certificate says which verify-full clients refuse it', async () => {
    const cnOnly = issued('cn-only', 'extendedKeyUsage = serverAuth\n');
    const r = await runPgssl(['cert', 'inspect', cnOnly.cert, cnOnly.key, '--no-color'], { env });
    assert.equal(r.code, 3);
    assert.match(r.stdout, /NO_SUBJECT_ALT_NAME: .*no subjectAltName extension, only a CN: libpq accepts the CN, but clients that ignore it under verify-full \(Go, pgJDBC, rustls-based\) refuse/);
  });
  it('Ed25519 and RSA-1024 are KEY_TYPE_UNSUITABLE, with the libpq channel-binding failure named', async () => {
    const ed = issued('ed25519', 'subjectAltName = DNS:db1.example.com\n', ['-newkey', 'ed25519']);
    const r = await runPgssl(['cert', 'inspect', ed.cert, ed.key, '--json'], { env });
    assert.equal(r.code, 3);
    const problem = parseJsonOutput(r).problems.find((p: { id: string }) => p.id === 'KEY_TYPE_UNSUITABLE');
    assert.match(problem.message, /Ed25519 certificate: .*"could not find digest for NID UNDEF".*channel_binding=disable/);
    const weak = issued('rsa1024', 'subjectAltName = DNS:db1.example.com\n', ['-newkey', 'rsa:1024']);
    const w = await runPgssl(['cert', 'inspect', weak.cert, '--json'], { env });
    assert.match(parseJsonOutput(w).problems.find((p: { id: string }) => p.id === 'KEY_TYPE_UNSUITABLE').message, /RSA key of 1024 bits is too weak/);
  });
  it('shows EC key sizes 256/384/521 for the certificate and the private key, and such certificates are sound', async () => {
    for (const [curve, bits] of [['P-256', 256], ['P-384', 384], ['P-521', 521]] as const) {
      const ec = issued(`ec${bits}`, 'subjectAltName = DNS:db1.example.com\nextendedKeyUsage = serverAuth\nkeyUsage = critical,digitalSignature\n', ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`]);
      const r = await runPgssl(['cert', 'inspect', ec.cert, ec.key, '--no-color'], { env });
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, new RegExp(`key: EC ${bits}, serial`));
      assert.match(r.stdout, new RegExp(`private key: EC ${bits} \\(${curve}\\)`));
    }
  });
  it('a single self-signed certificate is a chain of one, with or without --ca pointing at itself', async () => {
    const cert = join(dir, 'self.crt');
    const key = join(dir, 'self.key');
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '90', '-subj', '/CN=db1.example.com', '-addext', 'subjectAltName=DNS:db1.example.com', '-addext', 'basicConstraints=critical,CA:FALSE');
    chmodSync(key, 0o600);
    for (const args of [[cert, key], [cert, key, '--ca', cert]]) {
      const r = await runPgssl(['cert', 'inspect', ...args, '--no-color'], { env });
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /issuer: self-signed/);
      assert.match(r.stdout, /chain: verified \(1 certificate, self-signed\)/);
    }
  });
  it('a key file mode PostgreSQL refuses is KEY_PERMISSIONS, not sound: 0644, or 0640 unless root owns it', async () => {
    const { cert, key } = issued('modes', 'subjectAltName = DNS:db1.example.com\nextendedKeyUsage = serverAuth\n');
    const inspect = () => runPgssl(['cert', 'inspect', cert, key, '--json'], { env });
    const owner = serverOsUser();
    const cases: [string, number, number, boolean][] = [
      ['0600, owned by the server user', owner.uid, 0o600, true],
      ['0644, owned by the server user', owner.uid, 0o644, false],
      ['0640, owned by the server user', owner.uid, 0o640, false],
      ...(process.getuid?.() === 0 ? ([['0640, owned by root', 0, 0o640, true], ['0644, owned by root', 0, 0o644, false]] as [string, number, number, boolean][]) : []),
    ];
    for (const [name, uid, mode, sound] of cases) {
      if (process.getuid?.() === 0) chownSync(key, uid, -1);
      chmodSync(key, mode);
      const r = await inspect();
      assert.equal(r.code, sound ? 0 : 3, `${name}: ${r.stdout}`);
      if (!sound) {
        const problem = parseJsonOutput(r).problems.find((p: { id: string }) => p.id === 'KEY_PERMISSIONS');
        assert.match(problem.message, new RegExp(`mode 0${mode.toString(8)}.*the server refuses to load it`), name);
      }
    }
  });
});
