/**
 * The certificate builder's pure parts, table-driven: how names are encoded,
 * subjectAltName entries, which key the DBA asked for, which signature a key
 * makes, the keyUsage each certificate gets, the validity encoding, and the
 * client connection parameters. OpenSSL reads the results.
 */
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ipAddressBytes, parseAltName } from '../../src/certs/altNames.js';
import { buildCaCertificate, buildClientCertificate, buildSelfSignedServerCertificate, buildServerCertificate } from '../../src/certs/build.js';
import { conninfoValue, hbaUserField, jdbcUrl, psqlLine } from '../../src/certs/clientParameters.js';
import { directoryString } from '../../src/certs/directoryString.js';
import { describeKeySpec, generateKeyPair, keySpecFrom, type KeyPairPem } from '../../src/certs/keys.js';
import { signatureAlgorithmFor } from '../../src/certs/signing.js';
import { UsageError } from '../../src/errors.js';

const asn1 = (pem: string) => execFileSync('openssl', ['asn1parse', '-i'], { input: pem, encoding: 'utf8' });
const text = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
const pair = (type: 'ec' | 'rsa' | 'ed25519', curve?: string): KeyPairPem => {
  const keys = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: curve! }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return { privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }) as string, spec: { type: 'ecdsa', curve: 'prime256v1' } };
};

describe('names: PrintableString only when every character fits, else UTF8String, bytes exact', () => {
  const table: [string, 'printable' | 'utf8'][] = [
    ['alice', 'printable'],
    ["O'Brien (ops) +1, a-b./:=?", 'printable'],
    ['app_user', 'utf8'],
    ['bob@example.com', 'utf8'],
    ['šlice', 'utf8'],
    ['名前', 'utf8'],
    ['a*b', 'utf8'],
    ['emoji 🐘', 'utf8'],
  ];
  for (const [name, kind] of table) {
    it(`${name} → ${kind}`, () => {
      const encoded = directoryString(name);
      assert.equal(encoded.kind, kind);
      assert.deepEqual(encoded.bytes, Buffer.from(name, 'utf8'));
    });
  }
  it('refuses what no certificate can carry exactly: a lone surrogate, a NUL', () => {
    assert.throws(() => directoryString('a\uD800b'), /not valid Unicode \(a lone surrogate\)/);
    assert.throws(() => directoryString('a\0b'), /contains a NUL character/);
  });
  it('the certificate carries that string type and those bytes, for the CA, server and client', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'prime256v1' });
    const ca = { certificatePem: buildCaCertificate({ commonName: 'CA of 名前', days: 1, keys }), privateKeyPem: keys.privateKeyPem };
    assert.match(asn1(ca.certificatePem), /UTF8STRING\s+:CA of 名前/);
    assert.match(asn1(buildServerCertificate({ commonName: 'db_1', days: 1, keys }, ca)), /UTF8STRING\s+:db_1/);
    const client = buildClientCertificate({ commonName: 'alice', days: 1, keys }, ca);
    assert.match(asn1(client), /PRINTABLESTRING\s+:alice/);
    assert.equal(new X509Certificate(client).subject, 'CN=alice');
    assert.throws(() => buildClientCertificate({ commonName: 'x\uDC00', days: 1, keys }, ca), (e: unknown) => e instanceof UsageError && /cannot put this name in a certificate/.test(e.message));
  });
});

describe('subjectAltName entries', () => {
  it('DNS and IP, prefixed or guessed; IPv6 in every spelling', () => {
    assert.deepEqual(parseAltName('db1.example.com'), { kind: 'DNS', name: 'db1.example.com' });
    assert.deepEqual(parseAltName('DNS:localhost'), { kind: 'DNS', name: 'localhost' });
    assert.equal(parseAltName('10.0.0.5').kind, 'IP');
    assert.equal(ipAddressBytes('10.0.0.5')!.toString('hex'), '0a000005');
    assert.equal(ipAddressBytes('::1')!.toString('hex'), '00000000000000000000000000000001');
    assert.equal(ipAddressBytes('fe80::1%eth0')!.toString('hex'), 'fe800000000000000000000000000001');
    assert.equal(ipAddressBytes('2001:db8::ff00:42:8329')!.toString('hex'), '20010db8000000000000ff0000428329');
    assert.equal(ipAddressBytes('::ffff:192.0.2.1')!.toString('hex'), '00000000000000000000ffffc0000201');
    assert.equal(ipAddressBytes('2001:db8:0:0:1:0:0:1')!.toString('hex'), '20010db8000000000001000000000001');
    assert.equal(ipAddressBytes('db1'), undefined);
  });
  it('refuses a DNS name that is not ASCII and an IP: that is not an address, naming it', () => {
    assert.throws(() => parseAltName('DNS:bücher.example'), /"DNS:bücher\.example" is not a DNS name a certificate can hold .*xn-- form/);
    assert.throws(() => parseAltName('IP:300.1.1.1'), /"IP:300\.1\.1\.1" is not an IPv4 or IPv6 address/);
    const keys = pair('ec', 'prime256v1');
    assert.throws(() => buildSelfSignedServerCertificate({ commonName: 'x', subjectAltNames: ['DNS:bücher.example'], days: 1, keys }), (e: unknown) => e instanceof UsageError);
  });
  it('OpenSSL reads them back', () => {
    const pem = buildSelfSignedServerCertificate({ commonName: 'x', subjectAltNames: ['db1', 'IP:::1', '2001:db8::1', '192.0.2.7'], days: 1, keys: pair('ec', 'prime256v1') });
    assert.equal(new X509Certificate(pem).subjectAltName, 'DNS:db1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:192.0.2.7');
  });
});

describe('--key-type and --rsa-bits', () => {
  it('ECDSA P-256 by default; rsa with its size', () => {
    assert.deepEqual(keySpecFrom(undefined, '2048'), { type: 'ecdsa', curve: 'prime256v1' });
    assert.deepEqual(keySpecFrom('rsa', '3072', true), { type: 'rsa', bits: 3072 });
    assert.deepEqual(keySpecFrom('rsa', undefined), { type: 'rsa', bits: 2048 });
    assert.equal(describeKeySpec(keySpecFrom('ecdsa', undefined)), 'ECDSA P-256');
  });
  it('usage errors: --rsa-bits with ecdsa, an unknown type or size', () => {
    assert.throws(() => keySpecFrom('ecdsa', '4096', true), (e: unknown) => e instanceof UsageError && /--rsa-bits goes with --key-type rsa/.test(e.message));
    assert.throws(() => keySpecFrom('dsa', undefined), (e: unknown) => e instanceof UsageError && /--key-type dsa is not supported; use ecdsa/.test(e.message));
    assert.throws(() => keySpecFrom('rsa', '1024', true), (e: unknown) => e instanceof UsageError && /--rsa-bits 1024 is not supported/.test(e.message));
  });
});

describe('the signature follows the issuer key', () => {
  const cases: [string, KeyPairPem, RegExp][] = [
    ['RSA', pair('rsa'), /Signature Algorithm: sha256WithRSAEncryption/],
    ['P-256', pair('ec', 'prime256v1'), /Signature Algorithm: ecdsa-with-SHA256/],
    ['P-384', pair('ec', 'secp384r1'), /Signature Algorithm: ecdsa-with-SHA384/],
    ['P-521', pair('ec', 'secp521r1'), /Signature Algorithm: ecdsa-with-SHA512/],
  ];
  for (const [name, caKeys, signature] of cases) {
    it(`${name} CA`, () => {
      const ca = { certificatePem: buildCaCertificate({ commonName: `${name} CA`, days: 1, keys: caKeys }), privateKeyPem: caKeys.privateKeyPem };
      const leaf = buildServerCertificate({ commonName: 'db1', subjectAltNames: ['db1'], days: 1, keys: pair('ec', 'prime256v1') }, ca);
      assert.match(text(leaf), signature);
      assert.ok(new X509Certificate(leaf).verify(new X509Certificate(ca.certificatePem).publicKey));
      // RSA's AlgorithmIdentifier has NULL parameters, ECDSA's none (RFC 4055, RFC 5758).
      assert.equal(/NULL/.test(asn1(leaf).split('\n').slice(0, 8).join('\n')), name === 'RSA');
    });
  }
  it('an Ed25519 or secp256k1 key: a UsageError naming what pgssl signs with', () => {
    const ed = generateKeyPairSync('ed25519').privateKey;
    assert.throws(() => signatureAlgorithmFor(ed, 'the CA key ca.key'), (e: unknown) => e instanceof UsageError && /^the CA key ca\.key is a ed25519 key; pgssl signs certificates with RSA or ECDSA P-256, P-384 or P-521 keys/.test(e.message));
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    assert.throws(() => signatureAlgorithmFor(k1), /an EC key on the curve secp256k1/);
  });
});

describe('keyUsage and validity', () => {
  it('CA: keyCertSign+cRLSign; EC leaves: digitalSignature only (RFC 5480 §3); RSA leaves add keyEncipherment; self-signed: no keyCertSign', () => {
    const ec = pair('ec', 'prime256v1');
    const rsa = pair('rsa');
    const ca = { certificatePem: buildCaCertificate({ commonName: 'c', days: 1, keys: ec }), privateKeyPem: ec.privateKeyPem };
    const usage = (pem: string) => /Key Usage: critical\n\s+(.*)\n/.exec(text(pem))![1];
    assert.equal(usage(ca.certificatePem), 'Certificate Sign, CRL Sign');
    assert.equal(usage(buildServerCertificate({ commonName: 's', days: 1, keys: ec }, ca)), 'Digital Signature');
    assert.equal(usage(buildClientCertificate({ commonName: 'c', days: 1, keys: rsa }, ca)), 'Digital Signature, Key Encipherment');
    assert.equal(usage(buildSelfSignedServerCertificate({ commonName: 's', days: 1, keys: ec })), 'Digital Signature');
  });
  it('every certificate names its authority key; a self-signed one its own', () => {
    const keys = pair('ec', 'prime256v1');
    const self = text(buildSelfSignedServerCertificate({ commonName: 's', days: 1, keys }));
    assert.equal(/Subject Key Identifier:\s+(\S+)/.exec(self)![1], /Authority Key Identifier:\s+(?:keyid:)?(\S+)/.exec(self)![1]);
  });
  it('UTCTime through 2049, GeneralizedTime from 2050; past the year 9999 a UsageError', () => {
    const keys = pair('ec', 'prime256v1');
    const now = new Date('2026-01-01T00:00:00Z');
    assert.doesNotMatch(asn1(buildSelfSignedServerCertificate({ commonName: 's', days: 365, keys, now })), /GENERALIZEDTIME/);
    const long = buildSelfSignedServerCertificate({ commonName: 's', days: 30 * 365, keys, now });
    assert.match(asn1(long), /UTCTIME\s+:251231235500Z[\s\S]*GENERALIZEDTIME\s+:2055/);
    assert.equal(new Date(new X509Certificate(long).validTo).getUTCFullYear(), 2055);
    assert.throws(() => buildSelfSignedServerCertificate({ commonName: 's', days: 99_999_999, keys, now }), (e: unknown) => e instanceof UsageError && /a validity of 99999999 days ends after the year 9999/.test(e.message));
  });
});

describe('client connection parameters', () => {
  const files = { role: "o'neil x", certPath: '/c/o.crt', keyPath: '/c/o.key', pk8Path: '/c/my dir/o.pk8', caPath: '/ca.crt' };
  it('libpq values quoted when they must be; JDBC values URL-encoded; hba user field quoted unless plain', () => {
    assert.equal(conninfoValue('plain'), 'plain');
    assert.equal(conninfoValue("o'neil x"), "'o\\'neil x'");
    assert.match(psqlLine(files), /user='o\\\\'neil x'"$/);
    assert.match(jdbcUrl(files), /sslkey=%2Fc%2Fmy%20dir%2Fo\.pk8&user=o'neil%20x$/);
    assert.equal(hbaUserField('app_user'), 'app_user');
    assert.equal(hbaUserField('bob@example.com'), 'bob@example.com');
    assert.equal(hbaUserField('+admins'), '"+admins"');
    assert.equal(hbaUserField('šlice'), '"šlice"');
  });
});
