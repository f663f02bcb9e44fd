/**
 * The certificate request checks of `pgssl ca sign` and the file decisions
 * of `pgssl cert request`, on requests built in memory: every reason to
 * refuse, that a sound request passes, the names compared whatever their
 * spelling, and when an existing certificate or request already answers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildCaCertificate, type Issuer } from '../../src/certs/build.js';
import { generateKeyPair, type KeySpec } from '../../src/certs/keys.js';
import { buildSigningRequest } from '../../src/certs/request.js';
import { decideRequestFiles } from '../../src/certs/requestFiles.js';
import { canonicalAltName, parseSigningRequest, requestDerFromPem, sameAltNames, type ParsedRequest } from '../../src/certs/requestParse.js';
import { existingCertificateMismatch, issueForRequest, requestProblems, verifiesItself } from '../../src/certs/signRequest.js';

const names = ['DNS:db1.example.com', 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
const p256: KeySpec = { type: 'ecdsa', curve: 'prime256v1' };
const pemOf = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) => key.export({ type: 'pkcs8', format: 'pem' }) as string;
const parsed = (pem: string) => parseSigningRequest(requestDerFromPem(pem));
const dir = mkdtempSync(join(tmpdir(), 'pgssl-sign-request-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function soundRequest(spec: KeySpec = p256, requestNames = names) {
  const keys = await generateKeyPair(spec);
  const pem = buildSigningRequest({ commonName: 'db1.example.com', names: requestNames, privateKeyPem: keys.privateKeyPem });
  return { keys, pem, request: parsed(pem) };
}

async function newCa(): Promise<Issuer> {
  const keys = await generateKeyPair(p256);
  return { certificatePem: buildCaCertificate({ commonName: 'fleet CA', days: 3650, keys }), privateKeyPem: keys.privateKeyPem };
}

describe('a request pgssl cert request builds', () => {
  it('is read back: CN, names, serverAuth, its own signature; OpenSSL verifies it too; nothing to refuse', async () => {
    for (const spec of [p256, { type: 'ecdsa', curve: 'secp384r1' }, { type: 'rsa', bits: 2048 }] as KeySpec[]) {
      const { pem, request } = await soundRequest(spec);
      assert.equal(request.commonName, 'db1.example.com');
      assert.deepEqual(request.altNames, names);
      assert.deepEqual(request.extKeyUsage, ['1.3.6.1.5.5.7.3.1']);
      assert.equal(request.asksForCa, false);
      assert.ok(verifiesItself(request));
      assert.deepEqual(requestProblems(request, 'r.csr'), []);
      const file = join(dir, `${spec.type}.csr`);
      writeFileSync(file, pem);
      const openssl = spawnSync('openssl', ['req', '-in', file, '-verify', '-noout'], { encoding: 'utf8' });
      assert.equal(openssl.status, 0, openssl.stderr);
      assert.match(openssl.stdout + openssl.stderr, /verify OK/);
    }
  });
});

describe('requestProblems: each reason to refuse, alone', () => {
  const refusal = async (change: (r: ParsedRequest) => void, expected: RegExp) => {
    const { request } = await soundRequest();
    change(request);
    const problems = requestProblems(request, 'r.csr');
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], expected);
  };
  it('a signature that does not verify (one bit of the signed bytes changed)', () => refusal((r) => (r.infoDer[r.infoDer.length - 5] ^= 0x01), /its signature \(ecdsa-with-SHA256\) does not verify with its own public key/));
  it('a broken or unknown signature algorithm', async () => {
    await refusal((r) => (r.signatureAlgorithmOid = '1.2.840.113549.1.1.5'), /signed with sha1WithRSAEncryption, a broken hash/);
    await refusal((r) => (r.signatureAlgorithmOid = '1.2.840.113549.1.1.10'), /signed with the algorithm 1\.2\.840\.113549\.1\.1\.10, which pgssl does not check/);
  });
  it('no names', () => refusal((r) => (r.altNames = []), /it names no host/));
  it('a DNS name that is not one', () => refusal((r) => r.altNames.push('DNS:db_1.example.com'), /"db_1\.example\.com" is not a valid DNS name/));
  it('a name of another kind (email, URI)', () => refusal((r) => r.otherNames.push('email:dba@example.com'), /the name email:dba@example\.com, which is neither a DNS name nor an IP address/));
  it('CA:TRUE', () => refusal((r) => (r.asksForCa = true), /it asks to be a CA \(basicConstraints CA:TRUE\)/));
  it('keyUsage keyCertSign', () => refusal((r) => (r.keyUsage = ['digitalSignature', 'keyCertSign']), /keyUsage keyCertSign, the right to sign certificates/));
  it('extendedKeyUsage without serverAuth; with it beside clientAuth the request passes', async () => {
    await refusal((r) => (r.extKeyUsage = ['1.3.6.1.5.5.7.3.2']), /extendedKeyUsage clientAuth, without serverAuth: .*\(clientAuth: a client certificate, see pgssl client-cert\)/);
    const { request } = await soundRequest();
    request.extKeyUsage = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];
    assert.deepEqual(requestProblems(request, 'r.csr'), []);
  });
  it('keys no PostgreSQL client should get: RSA 1024 (the enable check\'s reason), P-521 (not what pgssl issues)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak = parsed(buildSigningRequest({ commonName: 'x', names, privateKeyPem: pemOf(rsa.privateKey) }));
    const weakProblems = requestProblems(weak, 'r.csr');
    assert.equal(weakProblems.length, 1);
    assert.match(weakProblems[0], /^its key cannot serve PostgreSQL clients — an RSA key of 1024 bits is too weak: OpenSSL clients at security level 2 refuse/);
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    const big = parsed(buildSigningRequest({ commonName: 'x', names, privateKeyPem: pemOf(p521.privateKey) }));
    assert.match(requestProblems(big, 'r.csr').join('\n'), /^its key is ECDSA P-521; pgssl ca sign accepts ECDSA P-256 or P-384 and RSA of 2048 bits or more/);
  });
  it('every problem at once', async () => {
    const { request } = await soundRequest();
    Object.assign(request, { altNames: [], asksForCa: true, extKeyUsage: ['1.3.6.1.5.5.7.3.2'] });
    assert.equal(requestProblems(request, 'r.csr').length, 3);
  });
});

describe('reading requests', () => {
  it('refuses what is not a PEM request, and a request that is not canonical DER', () => {
    assert.throws(() => requestDerFromPem('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'), /it holds a PEM "CERTIFICATE", not a "CERTIFICATE REQUEST"/);
    assert.throws(() => requestDerFromPem('hello'), /no PEM "CERTIFICATE REQUEST" block/);
    assert.throws(() => parseSigningRequest(Buffer.from([0x30, 0x81, 0x00])), /canonical DER|not DER-encoded/);
  });
  it('names are the same whatever their order, case and IPv6 spelling', () => {
    assert.equal(canonicalAltName('IP:0:0:0:0:0:0:0:1'), 'IP:::1');
    assert.equal(canonicalAltName('DNS:DB1.Example.COM'), 'DNS:db1.example.com');
    assert.ok(sameAltNames(['IP:0:0::1', 'DNS:Localhost'], ['DNS:localhost', 'IP:::1']));
    assert.ok(!sameAltNames(['DNS:localhost'], ['DNS:localhost', 'IP:127.0.0.1']));
  });
});

describe('an existing certificate answers the request only when it is this CA\'s, for this key and these names, and not due', () => {
  it('each mismatch is named', async () => {
    const ca = await newCa();
    const { request } = await soundRequest();
    const issued = issueForRequest(request, ca, 90);
    assert.equal(existingCertificateMismatch(issued, request, ca, 30), undefined);
    assert.equal(existingCertificateMismatch(issued, request, await newCa(), 30), 'it was not issued by this CA');
    assert.equal(existingCertificateMismatch(issued, (await soundRequest()).request, ca, 30), 'it certifies another key than the request');
    assert.equal(existingCertificateMismatch(issued, { ...request, altNames: [...request.altNames, 'DNS:db2.example.com'] }, ca, 30), 'its names differ from the request');
    assert.match(existingCertificateMismatch(issued, request, ca, 90) ?? '', /^it expires within 90 days/);
    assert.equal(existingCertificateMismatch('not a certificate', request, ca, 30), 'it is not a PEM certificate');
  });
});

describe('cert request: what to do with the files already there', () => {
  const wanted = { key: p256, commonName: 'db1.example.com', names, force: false };
  it('nothing there, or --force: a new key and request', () => {
    assert.deepEqual(decideRequestFiles({ keyPath: 'k' }, wanted), { key: 'new', csr: 'new', reason: 'none yet' });
    assert.equal(decideRequestFiles({ keyPath: 'k', keyText: 'x', csrText: 'y' }, { ...wanted, force: true }).key, 'new');
  });
  it('the request for this key and these names (in any order): keep both; other names, another key or no request: a new request for the same key', async () => {
    const { keys, pem } = await soundRequest();
    const found = { keyPath: 'k', keyText: keys.privateKeyPem, csrText: pem };
    assert.equal(decideRequestFiles(found, { ...wanted, names: [...names].reverse() }).csr, 'keep');
    assert.deepEqual(decideRequestFiles(found, { ...wanted, names: [...names, 'DNS:db1.fleet.example'] }), { key: 'keep', keyPem: keys.privateKeyPem, csr: 'new', reason: 'the names changed' });
    assert.equal((decideRequestFiles({ ...found, csrText: (await soundRequest()).pem }, wanted) as { reason: string }).reason, 'the request there is for another key');
    assert.equal((decideRequestFiles({ ...found, csrText: undefined }, wanted) as { reason: string }).reason, 'the key has no request beside it');
    assert.equal(decideRequestFiles({ keyPath: 'k', csrText: pem }, wanted).key, 'new');
  });
  it('a key that is not one, or of another type than asked: refused, with the way out', async () => {
    assert.throws(() => decideRequestFiles({ keyPath: '/r/server.key', keyText: 'garbage' }, wanted), /\/r\/server\.key is there but is not a usable private key \(no PEM private key found\); nothing was written\. Move it away, or give --force/);
    const rsa = await generateKeyPair({ type: 'rsa', bits: 2048 });
    assert.throws(() => decideRequestFiles({ keyPath: '/r/server.key', keyText: rsa.privateKeyPem }, wanted), /is an RSA 2048 key, not the ECDSA P-256 key asked for/);
  });
});
