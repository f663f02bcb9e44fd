/**
 * `pgssl ca init` and `pgssl client-cert` as a user runs them, without
 * `enable` first: modes, refusals (exit 2, nothing written), the pgJDBC key
 * (NAME.pk8, DER PKCS#8, 0600) and parameters, and outside CAs with RSA or
 * ECDSA keys in PKCS#8 or traditional PEM.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv } from '../support/cluster.js';

const work = mkdtempSync(join(tmpdir(), 'pgssl-ca-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const env = cleanEnv({ HOME: join(work, 'home'), PGSSL_STATE_DIR: join(work, 'default-state') });
const mode = (path: string) => statSync(path).mode & 0o777;
const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const outDir = (name: string) => {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
};
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('pgssl ca init', () => {
  const dir = join(work, 'ca');
  it('creates ca.crt and ca.key (0600) in a new 0700 folder, ECDSA P-256 by default', async () => {
    const r = await runPgssl(['ca', 'init', '--dir', dir], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created pgssl's CA in .*\(ECDSA P-256, valid until/);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(dir, 'ca.key')), 0o600);
    const cert = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    assert.equal(cert.ca, true);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'ca.key')))));
  });
  it('never overwrites a CA: exit 2, the folder byte-identical', async () => {
    const before = readFileSync(join(dir, 'ca.key')).toString('base64') + readFileSync(join(dir, 'ca.crt')).toString('base64');
    const r = await runPgssl(['ca', 'init', '--dir', dir, '--key-type', 'rsa'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already holds a CA .*; pgssl ca init never overwrites one, and nothing was changed\. Use it as it is \(pgssl client-cert NAME --dir .*\), or move ca\.crt and ca\.key out of the folder first/);
    assert.equal(readFileSync(join(dir, 'ca.key')).toString('base64') + readFileSync(join(dir, 'ca.crt')).toString('base64'), before);
  });
  it('refuses an existing folder others can enter, and --rsa-bits without --key-type rsa; nothing written', async () => {
    const open = join(work, 'open');
    mkdirSync(open, { mode: 0o755 });
    const r = await runPgssl(['ca', 'init', '--dir', open], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /can be entered by other users \(mode 0755\), and the CA key would live there; nothing was changed\. Run chmod 700 .*, or give --dir a new folder/);
    assert.deepEqual(listing(open), []);
    const bits = await runPgssl(['ca', 'init', '--dir', join(work, 'bits'), '--rsa-bits', '4096'], { env });
    assert.equal(bits.code, 2);
    assert.match(bits.stderr, /--rsa-bits goes with --key-type rsa; ECDSA keys \(the default\) are P-256/);
    assert.equal(existsSync(join(work, 'bits')), false);
  });
  it('--key-type rsa --rsa-bits 3072 --days 30 --json, in the state folder by default', async () => {
    const r = await runPgssl(['ca', 'init', '--key-type', 'rsa', '--rsa-bits', '3072', '--days', '30', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.keyType, 'RSA 3072');
    assert.equal(report.dir, env.PGSSL_STATE_DIR);
    assert.ok(Math.abs(Date.parse(report.notAfter) - Date.now() - 30 * 86_400_000) < 120_000);
    assert.equal(mode(env.PGSSL_STATE_DIR!), 0o700);
  });
  it('replaces a half-written CA (a key without its certificate) and says so', async () => {
    const half = join(work, 'half');
    mkdirSync(half, { mode: 0o700 });
    writeFileSync(join(half, 'ca.key'), createPrivateKey({ key: readFileSync(join(dir, 'ca.key')) }).export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const client = await runPgssl(['client-cert', 'alice', '--dir', half, '--out-dir', outDir('half-out')], { env });
    assert.equal(client.code, 2);
    assert.match(client.stderr, /the CA in .* is half-written: .*ca\.key has no certificate beside it .*; nothing was written\. pgssl ca init --dir .* replaces it/);
    assert.deepEqual(listing(join(work, 'half-out')), []);
    const r = await runPgssl(['ca', 'init', '--dir', half], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Replaced a half-written CA: .*ca\.key has no certificate beside it.*Nothing can have been signed by it\./);
    assert.ok(new X509Certificate(readFileSync(join(half, 'ca.crt'))).checkPrivateKey(createPrivateKey(readFileSync(join(half, 'ca.key')))));
  });
});

describe('pgssl client-cert without enable', () => {
  const caDir = join(work, 'ca');
  it('signs from --dir; writes NAME.crt, NAME.key and NAME.pk8 (DER PKCS#8, 0600) and prints the libpq and pgJDBC parameters', async () => {
    const out = outDir('out');
    const r = await runPgssl(['client-cert', 'app_user', '--dir', caDir, '--out-dir', out], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(join(out, 'app_user.key')), 0o600);
    assert.equal(mode(join(out, 'app_user.pk8')), 0o600);
    const pk8 = readFileSync(join(out, 'app_user.pk8'));
    const fromDer = createPrivateKey({ key: pk8, format: 'der', type: 'pkcs8' });
    assert.deepEqual(fromDer.export({ type: 'pkcs8', format: 'der' }), createPrivateKey(readFileSync(join(out, 'app_user.key'))).export({ type: 'pkcs8', format: 'der' }), 'the same key as NAME.key');
    assert.match(openssl('pkey', '-inform', 'DER', '-in', join(out, 'app_user.pk8'), '-noout', '-text'), /Private-Key: \(256 bit/);
    assert.match(r.stdout, /psql "host=DBHOST dbname=DBNAME sslmode=verify-full sslrootcert=.*ca\/ca\.crt sslcert=.*app_user\.crt sslkey=.*app_user\.key user=app_user"/);
    assert.match(r.stdout, /jdbc:postgresql:\/\/DBHOST:5432\/DBNAME\?sslmode=verify-full&sslrootcert=[^&]*ca\.crt&sslcert=[^&]*app_user\.crt&sslkey=[^&]*app_user\.pk8&user=app_user/);
    assert.match(r.stdout, /hostssl all app_user 0\.0\.0\.0\/0 cert/);
    assert.match(openssl('verify', '-CAfile', join(caDir, 'ca.crt'), '-purpose', 'sslclient', join(out, 'app_user.crt')), /: OK/);
  });
  it('--json carries the pgJDBC parameters; a name that needs quoting is quoted', async () => {
    const r = await runPgssl(['client-cert', 'šlice', '--dir', caDir, '--out-dir', outDir('json-out'), '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.commonName, 'šlice');
    assert.match(report.jdbc.sslkey, /šlice\.pk8$/);
    assert.equal(report.jdbc.sslmode, 'verify-full');
    assert.equal(report.libpq.user, 'šlice');
    assert.equal(new X509Certificate(readFileSync(report.certificate)).subject, 'CN=šlice');
  });
  it('no CA yet, or a missing --out-dir: exit 2 naming the fix, nothing written', async () => {
    const out = outDir('nothing');
    const noCa = await runPgssl(['client-cert', 'alice', '--dir', join(work, 'no-ca'), '--out-dir', out], { env });
    assert.equal(noCa.code, 2);
    assert.match(noCa.stderr, /no pgssl CA in .*no-ca yet; nothing was written\. Create one with pgssl ca init --dir .*no-ca \(pgssl enable also creates it\), or give --ca-cert and --ca-key/);
    const noOut = await runPgssl(['client-cert', 'alice', '--dir', caDir, '--out-dir', join(work, 'missing')], { env });
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out-dir .*missing is not a folder; nothing was written/);
    assert.deepEqual(listing(out), []);
    assert.equal(existsSync(join(work, 'no-ca')), false);
  });
  it('signs with an outside CA whose key is RSA or ECDSA, PKCS#8 or traditional PEM, with the matching signature algorithm', async () => {
    const keys: [string, string[], RegExp, RegExp][] = [
      ['ec-traditional', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], /BEGIN EC PRIVATE KEY/, /ecdsa-with-SHA256/],
      ['p384-pkcs8', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], /BEGIN PRIVATE KEY/, /ecdsa-with-SHA384/],
      ['rsa-traditional', ['genrsa', '-traditional'], /BEGIN RSA PRIVATE KEY/, /sha256WithRSAEncryption/],
    ];
    for (const [name, generate, pemLabel, signature] of keys) {
      const key = join(work, `${name}.key`);
      const cert = join(work, `${name}.crt`);
      openssl(...generate, '-out', key, ...(name.startsWith('rsa') ? ['2048'] : []));
      assert.match(readFileSync(key, 'utf8'), pemLabel, name);
      openssl('req', '-x509', '-new', '-key', key, '-out', cert, '-days', '30', '-subj', `/CN=${name} CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
      const out = outDir(`${name}-out`);
      const r = await runPgssl(['client-cert', 'bob@example.com', '--ca-cert', cert, '--ca-key', key, '--out-dir', out], { env });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const issued = join(out, 'bob@example.com.crt');
      assert.match(openssl('x509', '-in', issued, '-noout', '-text'), new RegExp(`Signature Algorithm: ${signature.source}`), name);
      assert.match(openssl('verify', '-CAfile', cert, '-purpose', 'sslclient', issued), /: OK/, name);
    }
  });
  it('an outside CA with an Ed25519 key: exit 2 naming the key types pgssl signs with, nothing written', async () => {
    const key = join(work, 'ed.key');
    const cert = join(work, 'ed.crt');
    openssl('genpkey', '-algorithm', 'ED25519', '-out', key);
    openssl('req', '-x509', '-new', '-key', key, '-out', cert, '-days', '30', '-subj', '/CN=ed CA', '-addext', 'basicConstraints=critical,CA:TRUE');
    const out = outDir('ed-out');
    const r = await runPgssl(['client-cert', 'alice', '--ca-cert', cert, '--ca-key', key, '--out-dir', out], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the CA key .*ed\.key is a ed25519 key; pgssl signs certificates with RSA or ECDSA P-256, P-384 or P-521 keys/);
    assert.deepEqual(listing(out), []);
  });
});
