/**
 * Every certificate pgssl makes (CA, server, client, self-signed), for RSA and
 * ECDSA and for role names that PrintableString cannot hold, read by the
 * strict parsers applications use — Go's crypto/x509 and Python cryptography —
 * beside OpenSSL: the CN's bytes and string type, SANs, key usage, extended
 * key usage, basicConstraints, the chain, and host name verification.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCaCertificate, buildClientCertificate, buildSelfSignedServerCertificate, buildServerCertificate, type Issuer } from '../../src/certs/build.js';
import { generateKeyPair, type KeySpec } from '../../src/certs/keys.js';
import { goParser, pythonParser, type Check, type ParserReport, type StrictParser } from '../support/strictParsers.js';

const names = ['alice', 'app_user', 'bob@example.com', 'šlice', '名前'];
const keySpecs: KeySpec[] = [{ type: 'ecdsa', curve: 'prime256v1' }, { type: 'rsa', bits: 2048 }];
const serverNames = ['DNS:db1.example.com', 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
const goodHosts = ['db1.example.com', 'localhost', '127.0.0.1', '::1'];
const wrongHost = 'other.example.com';

type Kind = 'ca' | 'server' | 'client' | 'self-signed';
interface Made {
  kind: Kind;
  spec: KeySpec;
  commonName: string;
  check: Check;
}

const dir = mkdtempSync(join(tmpdir(), 'pgssl-strict-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const made: Made[] = [];
const outsideCa = { check: { cert: join(dir, 'p384-leaf.crt'), root: join(dir, 'p384.crt'), usage: 'server', hosts: ['db1.example.com'] } satisfies Check };

before(async () => {
  let n = 0;
  const save = (pem: string) => {
    const path = join(dir, `c${n++}.crt`);
    writeFileSync(path, pem);
    return path;
  };
  for (const spec of keySpecs) {
    for (const name of names) {
      const [caKeys, serverKeys, clientKeys] = await Promise.all([generateKeyPair(spec), generateKeyPair(spec), generateKeyPair(spec)]);
      const caCommonName = `pgssl CA (${name})`;
      const ca: Issuer = { certificatePem: buildCaCertificate({ commonName: caCommonName, days: 3650, keys: caKeys }), privateKeyPem: caKeys.privateKeyPem };
      const root = save(ca.certificatePem);
      made.push({ kind: 'ca', spec, commonName: caCommonName, check: { cert: root, root, usage: 'ca' } });
      made.push({ kind: 'server', spec, commonName: name, check: { cert: save(buildServerCertificate({ commonName: name, subjectAltNames: serverNames, days: 397, keys: serverKeys }, ca)), root, usage: 'server', hosts: [...goodHosts, wrongHost] } });
      made.push({ kind: 'client', spec, commonName: name, check: { cert: save(buildClientCertificate({ commonName: name, days: 397, keys: clientKeys }, ca)), root, usage: 'client' } });
      const self = save(buildSelfSignedServerCertificate({ commonName: name, subjectAltNames: serverNames, days: 397, keys: serverKeys }));
      made.push({ kind: 'self-signed', spec, commonName: name, check: { cert: self, root: self, usage: 'server', hosts: [...goodHosts, wrongHost] } });
    }
  }
  // An outside CA with a P-384 key in the traditional PEM form, as openssl writes it.
  const caKey = join(dir, 'p384.key');
  execFileSync('openssl', ['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', caKey]);
  assert.match(readFileSync(caKey, 'utf8'), /BEGIN EC PRIVATE KEY/);
  execFileSync('openssl', ['req', '-x509', '-new', '-key', caKey, '-out', outsideCa.check.root, '-days', '30', '-subj', '/CN=corp_ca/O=Example Corp', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  const keys = await generateKeyPair({ type: 'ecdsa', curve: 'prime256v1' });
  writeFileSync(outsideCa.check.cert, buildServerCertificate({ commonName: 'db1.example.com', subjectAltNames: ['db1.example.com'], days: 30, keys }, { certificatePem: readFileSync(outsideCa.check.root, 'utf8'), privateKeyPem: readFileSync(caKey, 'utf8') }));
});

const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const label = (m: Made) => `${m.kind} ${m.spec.type} CN=${m.commonName}`;

function expectSound(parser: StrictParser, m: Made, report: ParserReport): void {
  const what = `${parser.name}: ${label(m)}`;
  assert.equal(report.parseError, null, what);
  const cn = report.subject.find((v) => v.oid === '2.5.4.3')!;
  assert.equal(cn.hex, Buffer.from(m.commonName, 'utf8').toString('hex'), `${what}: the CN bytes are the name's UTF-8 bytes`);
  assert.equal(cn.tag, printable.test(m.commonName) ? 19 : 12, `${what}: PrintableString only when every character fits, else UTF8String`);
  assert.equal(report.basicConstraintsValid, true, what);
  assert.equal(report.isCA, m.kind === 'ca', what);
  assert.equal(report.issuerMatchesRoot, true, `${what}: the issuer field is the CA's subject, byte for byte`);
  assert.equal(report.chainError, null, `${what}: the chain verifies`);
  const leafUsage = m.spec.type === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
  assert.deepEqual(report.keyUsage, m.kind === 'ca' ? ['keyCertSign', 'cRLSign'] : leafUsage, `${what}: key usage (no keyCertSign on a CA:FALSE certificate)`);
  assert.deepEqual(report.extKeyUsage, m.kind === 'ca' ? [] : m.kind === 'client' ? ['clientAuth'] : ['serverAuth'], what);
  assert.match(report.signatureAlgorithm, m.spec.type === 'rsa' ? /^(SHA256-RSA|sha256WithRSAEncryption)$/ : /^(ECDSA-SHA256|ecdsa-with-SHA256)$/, what);
  if (m.kind === 'server' || m.kind === 'self-signed') {
    assert.deepEqual(report.dnsNames, ['db1.example.com', 'localhost'], what);
    assert.deepEqual(report.ipAddresses, ['127.0.0.1', '::1'], what);
    // Python's 38.x has no verifier (no host name checks); Go always checks them.
    if (parser.name.startsWith('Go') || report.verifier) {
      for (const host of goodHosts) assert.equal(report.hostErrors[host], null, `${what}: verifies as ${host}`);
      assert.notEqual(report.hostErrors[wrongHost], null, `${what}: refused as ${wrongHost}`);
    }
  } else {
    assert.deepEqual(report.dnsNames, [], what);
  }
}

// One process per parser for every check: `go run` compiles and links each time.
for (const parser of [goParser(), pythonParser()]) {
  describe(parser.name, () => {
    let reports: ParserReport[] = [];
    before(() => {
      if (!parser.skip) reports = parser.run([...made.map((m) => m.check), outsideCa.check]);
    });
    it('parses every certificate pgssl makes and verifies chains and host names', { skip: parser.skip }, () => {
      assert.equal(reports.length, made.length + 1);
      made.forEach((m, i) => expectSound(parser, m, reports[i]));
    });
    it('a server certificate signed by an outside ECDSA P-384 CA (openssl, "BEGIN EC PRIVATE KEY") says ecdsa-with-SHA384 and verifies', { skip: parser.skip }, () => {
      const report = reports[made.length];
      assert.equal(report.parseError, null);
      assert.match(report.signatureAlgorithm, /^(ECDSA-SHA384|ecdsa-with-SHA384)$/);
      assert.equal(report.issuerMatchesRoot, true, "the issuer is the outside CA's subject, byte for byte");
      assert.equal(report.chainError, null);
      if (parser.name.startsWith('Go') || report.verifier) assert.equal(report.hostErrors['db1.example.com'], null);
    });
  });
}

describe('OpenSSL', () => {
  it('verifies every chain with the right purpose, and the host names', () => {
    for (const m of made) {
      const args = ['verify', '-CAfile', m.check.root!, '-purpose', m.kind === 'client' ? 'sslclient' : m.kind === 'ca' ? 'any' : 'sslserver'];
      if (m.check.hosts) args.push('-verify_hostname', 'db1.example.com', '-verify_ip', '::1');
      assert.match(execFileSync('openssl', [...args, m.check.cert], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), /: OK/, label(m));
    }
  });
});
