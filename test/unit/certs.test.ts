import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { buildCaCertificate, buildClientCertificate, buildSelfSignedServerCertificate, buildServerCertificate, type Issuer } from '../../src/certs/build.js';
import { prepareExistingFiles } from '../../src/certs/existing.js';
import { inspectCertificateFiles } from '../../src/certs/inspect.js';
import { planTlsFiles, settingPath } from '../../src/certs/install.js';
import { generateRsaKeyPair, type KeyPairPem } from '../../src/certs/keys.js';
import { defaultServerNames } from '../../src/certs/names.js';
import { UsageError } from '../../src/errors.js';
import { backupOnlyWriter } from '../../src/flow/changes.js';
import { tempDir } from '../support/tempDir.js';

const dir = tempDir('pgssl-certs');
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const opensslText = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });

let ca: Issuer;
let caKeys: KeyPairPem;
let serverKeys: KeyPairPem;
let serverPem: string;
const now = new Date();

before(async () => {
  [caKeys, serverKeys] = await Promise.all([generateRsaKeyPair(2048), generateRsaKeyPair(2048)]);
  ca = { certificatePem: buildCaCertificate({ commonName: 'test CA', days: 3650, keys: caKeys, now }), privateKeyPem: caKeys.privateKeyPem };
  serverPem = buildServerCertificate({ commonName: 'db1.example.com', subjectAltNames: ['db1.example.com', 'localhost', '127.0.0.1', '::1'], days: 397, keys: serverKeys, now }, ca);
});

describe('generated certificates', () => {
  it('the CA: CA:true (critical), keyCertSign+cRLSign, a subject key identifier, 10 years', () => {
    const cert = new X509Certificate(ca.certificatePem);
    assert.equal(cert.ca, true);
    const text = opensslText(ca.certificatePem);
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(text, /Subject Key Identifier/);
    assert.ok(Math.abs(Date.parse(cert.validTo) - (now.getTime() + 3650 * 86_400_000)) < 2000);
  });
  it('the server certificate: SANs (DNS and IP), serverAuth, key identifiers, 397 days, back-dated 5 minutes', () => {
    const cert = new X509Certificate(serverPem);
    assert.equal(cert.ca, false);
    assert.equal(cert.subjectAltName, 'DNS:db1.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    const text = opensslText(serverPem);
    assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication/);
    assert.match(text, /Authority Key Identifier/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(opensslText(ca.certificatePem))![1];
    assert.match(text, new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caSki}`), 'AKI names the CA key');
    const notBefore = Date.parse(cert.validFrom);
    assert.ok(now.getTime() - notBefore >= 4 * 60_000 && now.getTime() - notBefore <= 6 * 60_000);
    assert.ok(Math.abs(Date.parse(cert.validTo) - (now.getTime() + 397 * 86_400_000)) < 2000);
    assert.ok(cert.checkIssued(new X509Certificate(ca.certificatePem)));
  });
  it('openssl verify accepts the chain, and the host names match', () => {
    const caFile = write('ca.crt', ca.certificatePem);
    const certFile = write('server.crt', serverPem);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', caFile, '-purpose', 'sslserver', certFile], { encoding: 'utf8' }), /server\.crt: OK/);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', caFile, '-verify_hostname', 'db1.example.com', certFile], { encoding: 'utf8' }), /OK/);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', caFile, '-verify_ip', '127.0.0.1', certFile], { encoding: 'utf8' }), /OK/);
  });
  it('random positive 128-bit serials, different each time', () => {
    const a = new X509Certificate(serverPem).serialNumber;
    const b = new X509Certificate(buildServerCertificate({ commonName: 'x', days: 1, keys: serverKeys }, ca)).serialNumber;
    assert.notEqual(a, b);
    assert.ok(a.length <= 32 && a.length >= 30, a);
    assert.ok(parseInt(a.slice(0, 2), 16) < 0x80, 'positive');
  });
  it('every PEM ends with a newline and has no CR', () => {
    for (const pem of [ca.certificatePem, serverPem, serverKeys.privateKeyPem]) {
      assert.ok(pem.endsWith('\n'));
      assert.ok(!pem.includes('\r'));
    }
  });
  it('self-signed server and client certificates', () => {
    const selfPem = buildSelfSignedServerCertificate({ commonName: 'db1', subjectAltNames: ['db1'], days: 30, keys: serverKeys });
    const self = new X509Certificate(selfPem);
    assert.ok(self.verify(self.publicKey), 'signed by its own key');
    // CA:FALSE, so no keyCertSign (RFC 5280 §4.2.1.3): OpenSSL's checkIssued, which demands it of an issuer, says no.
    assert.equal(self.checkIssued(self), false);
    assert.match(opensslText(selfPem), /Basic Constraints: critical\s+CA:FALSE\s+X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    const selfFile = write('self.crt', selfPem);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', selfFile, '-verify_hostname', 'db1', selfFile], { encoding: 'utf8' }), /OK/, 'pinning it as its own CA works');
    const client = buildClientCertificate({ commonName: 'alice', days: 30, keys: serverKeys }, ca);
    assert.equal(new X509Certificate(client).subject, 'CN=alice');
    assert.match(opensslText(client), /Extended Key Usage:\s+TLS Web Client Authentication/);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', write('ca2.crt', ca.certificatePem), '-purpose', 'sslclient', write('alice.crt', client)], { encoding: 'utf8' }), /OK/);
  });
  it('--rsa-bits 3072', async () => {
    const keys = await generateRsaKeyPair(3072);
    assert.equal(new X509Certificate(buildServerCertificate({ commonName: 'x', days: 1, keys }, ca)).publicKey.asymmetricKeyDetails?.modulusLength, 3072);
  });
});

describe('defaultServerNames', () => {
  it('host name, FQDN, listen addresses, loopback when listening there, extras, no duplicates', () => {
    assert.deepEqual(defaultServerNames({ hostname: 'db1', fqdn: 'db1.example.com', listenAddresses: 'localhost', extra: ['db.example.com', 'IP:10.0.0.5', 'db1'] }), [
      'DNS:db1', 'DNS:db1.example.com', 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1', 'DNS:db.example.com', 'IP:10.0.0.5',
    ]);
    assert.deepEqual(defaultServerNames({ hostname: 'db1', listenAddresses: '*', interfaceAddresses: ['10.1.2.3'] }), ['DNS:db1', 'IP:10.1.2.3', 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
    assert.deepEqual(defaultServerNames({ hostname: 'db1', listenAddresses: '10.1.2.3' }), ['DNS:db1', 'IP:10.1.2.3']);
  });
});

describe('inspection finds every problem', () => {
  it('a sound pair, chain and names', () => {
    const result = inspectCertificateFiles({ files: [{ path: 'c', text: serverPem }, { path: 'k', text: serverKeys.privateKeyPem }], ca: { path: 'ca', text: ca.certificatePem }, hosts: ['db1.example.com', '127.0.0.1'] });
    assert.deepEqual(result.problems, []);
    assert.equal(result.keyMatchesCertificate, true);
    assert.deepEqual(result.chain, { verified: true, length: 2 });
  });
  it('mismatched key, other CA, uncovered name', () => {
    const result = inspectCertificateFiles({ files: [{ path: 'c', text: serverPem }, { path: 'k', text: caKeys.privateKeyPem }], ca: { path: 'ca', text: buildCaCertificate({ commonName: 'other', days: 10, keys: serverKeys }) }, hosts: ['other.example.com'] });
    assert.deepEqual(result.problems.map((p) => p.id).sort(), ['CHAIN_INVALID', 'KEY_MISMATCH', 'NAME_NOT_COVERED']);
  });
  it('expired, not yet valid, expiring soon', () => {
    const expired = buildServerCertificate({ commonName: 'x', days: 30, keys: serverKeys, now: new Date(Date.now() - 60 * 86_400_000) }, ca);
    const future = buildServerCertificate({ commonName: 'x', days: 30, keys: serverKeys, now: new Date(Date.now() + 10 * 86_400_000) }, ca);
    const soon = buildServerCertificate({ commonName: 'x', days: 5, keys: serverKeys }, ca);
    // These certificates name no host (CN only): that problem is not the one under test here.
    const ids = (pem: string) => inspectCertificateFiles({ files: [{ path: 'c', text: pem }] }).problems.map((p) => p.id).filter((id) => id !== 'NO_SUBJECT_ALT_NAME');
    assert.deepEqual(ids(expired), ['CERT_EXPIRED']);
    assert.deepEqual(ids(future), ['CERT_NOT_YET_VALID']);
    assert.deepEqual(ids(soon), ['CERT_EXPIRES_SOON']);
  });
  it('an encrypted key (unless ssl_passphrase_command is set) and garbage', () => {
    const encrypted = createPrivateKey(serverKeys.privateKeyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
    assert.deepEqual(inspectCertificateFiles({ files: [{ path: 'k', text: encrypted }] }).problems.map((p) => p.id), ['KEY_ENCRYPTED']);
    assert.deepEqual(inspectCertificateFiles({ files: [{ path: 'k', text: encrypted }], passphraseCommand: true }).problems, []);
    assert.deepEqual(inspectCertificateFiles({ files: [{ path: 'g', text: 'hello\n' }] }).problems.map((p) => p.id), ['NOT_PEM']);
    assert.deepEqual(inspectCertificateFiles({ files: [{ path: 'g', text: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }] }).problems.map((p) => p.id), ['NOT_PEM']);
  });
  it('a chain through an intermediate, as openssl builds it', () => {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.crt', '-days', '30', '-subj', '/CN=root');
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=intermediate');
    writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    run('x509', '-req', '-in', 'int.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.crt', '-days', '30', '-extfile', 'ca.ext');
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf');
    run('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.crt', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '30');
    const bundle = readFileSync(join(dir, 'leaf.crt'), 'utf8') + readFileSync(join(dir, 'int.crt'), 'utf8');
    const withChain = inspectCertificateFiles({ files: [{ path: 'bundle', text: bundle }], ca: { path: 'root', text: readFileSync(join(dir, 'root.crt'), 'utf8') } });
    assert.deepEqual(withChain.chain, { verified: true, length: 3 });
    const withoutIntermediate = inspectCertificateFiles({ files: [{ path: 'leaf', text: readFileSync(join(dir, 'leaf.crt'), 'utf8') }], ca: { path: 'root', text: readFileSync(join(dir, 'root.crt'), 'utf8') } });
    assert.equal(withoutIntermediate.chain?.verified, false);
  });
});

describe('existing files: refused before anything is written', () => {
  const target = tempDir('pgssl-install');
  const snapshot = () => readdirSync(target).map((n) => [n, readFileSync(join(target, n)).toString('base64')]);
  it('each refusal names the cause and the fix, and the target folder is untouched', () => {
    writeFileSync(join(target, 'server.crt'), 'old certificate\n');
    const before = snapshot();
    const expired = buildServerCertificate({ commonName: 'x', subjectAltNames: ['db1'], days: 30, keys: serverKeys, now: new Date(Date.now() - 60 * 86_400_000) }, ca);
    const encrypted = createPrivateKey(serverKeys.privateKeyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
    const cases: [string, Parameters<typeof prepareExistingFiles>[0], RegExp][] = [
      ['mismatch', { certFile: write('s1.crt', serverPem), keyFile: write('k1.key', caKeys.privateKeyPem), hosts: ['db1.example.com'] }, /KEY_MISMATCH: .*is not the private key[\s\S]*fix:/],
      ['expired', { certFile: write('s2.crt', expired), keyFile: write('k2.key', serverKeys.privateKeyPem), hosts: ['db1'] }, /CERT_EXPIRED: .*expired on/],
      ['chain', { certFile: write('s3.crt', serverPem), keyFile: write('k3.key', serverKeys.privateKeyPem), caFile: write('other.crt', buildCaCertificate({ commonName: 'o', days: 9, keys: serverKeys })), hosts: ['db1.example.com'] }, /CHAIN_INVALID/],
      ['name', { certFile: write('s4.crt', serverPem), keyFile: write('k4.key', serverKeys.privateKeyPem), hosts: ['db2.example.com'] }, /NAME_NOT_COVERED[\s\S]*--allow-name-mismatch/],
      ['encrypted', { certFile: write('s5.crt', serverPem), keyFile: write('k5.key', encrypted), hosts: ['db1.example.com'] }, /KEY_ENCRYPTED: .*passphrase-protected/],
      ['garbage', { certFile: write('s6.crt', 'not a certificate'), keyFile: write('k6.key', serverKeys.privateKeyPem), hosts: [] }, /NOT_PEM/],
      ['unreadable', { certFile: join(dir, 'missing.crt'), keyFile: write('k7.key', serverKeys.privateKeyPem), hosts: [] }, /cannot read .*missing\.crt \(no such file\)/],
    ];
    for (const [name, input, message] of cases) {
      assert.throws(
        () => {
          const { contents } = prepareExistingFiles(input);
          const writer = backupOnlyWriter(() => tempDir('pgssl-backups'));
          for (const file of planTlsFiles(contents, target, target)) writer.writeFile({ path: file.path, content: file.content, mode: file.mode, why: file.role });
        },
        (error: unknown) => error instanceof UsageError && message.test(error.message) && /nothing was changed/.test(error.message),
        name,
      );
      assert.deepEqual(snapshot(), before, `${name}: nothing written`);
    }
    const { contents, warnings } = prepareExistingFiles({ certFile: join(dir, 's4.crt'), keyFile: join(dir, 'k4.key'), hosts: ['db2.example.com'], allowNameMismatch: true });
    assert.deepEqual(warnings.map((w) => w.id), ['NAME_NOT_COVERED'], '--allow-name-mismatch turns it into a warning');
    assert.ok(contents.certificatePem.endsWith('\n'));
  });
  it('installs with 0600/0644, backs up a replaced file byte for byte, and changes nothing the second time', () => {
    writeFileSync(join(target, 'server.crt'), 'old certificate\n');
    const plan = planTlsFiles({ certificatePem: serverPem, privateKeyPem: serverKeys.privateKeyPem, caCertificatePem: ca.certificatePem }, target, target);
    assert.deepEqual(plan.map((f) => f.settingValue), ['server.crt', 'server.key', 'root.crt'], 'relative to the data directory');
    const backups = tempDir('pgssl-backups');
    const writer = backupOnlyWriter(() => backups);
    const install = () => plan.map((file) => writer.writeFile({ path: file.path, content: file.content, mode: file.mode, why: file.role }));
    const first = install();
    assert.equal(statSync(join(target, 'server.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(target, 'server.crt')).mode & 0o777, 0o644);
    const replaced = first.find((f) => f.path.endsWith('server.crt'))!;
    assert.equal(readFileSync(replaced.backup!, 'utf8'), 'old certificate\n');
    assert.ok(replaced.backup!.startsWith(backups), 'the backup is kept away from the configuration');
    assert.equal(statSync(replaced.backup!).mode & 0o777, 0o600);
    assert.deepEqual(first.map((f) => f.action), ['replaced', 'created', 'created']);
    const second = install();
    assert.deepEqual(second.map((f) => f.action), ['unchanged', 'unchanged', 'unchanged']);
    assert.equal(settingPath('/etc/ssl/db.crt', target), '/etc/ssl/db.crt', 'absolute outside the data directory');
  });
});
