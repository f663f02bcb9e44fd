/**
 * pgssl's DER writer and reader (src/certs/der.ts) against node-forge's ASN.1
 * layer, which it replaced: the same bytes for every form the certificate
 * builder makes, the same values read back; real certificates from OpenSSL
 * read and re-encoded byte for byte; malformed DER refused, naming the fault.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type * as Forge from 'node-forge';
import { bitString, childrenOf, contentOf, dottedOid, encode, explicit, implicit, namedBits, nullValue, objectId, parse, primitive, sequence, set, time, trueValue, universal } from '../../src/certs/der.js';

const forge = createRequire(import.meta.url)('node-forge/lib/asn1') as typeof Forge.asn1;
const forgeDer = (node: Forge.asn1.Asn1) => Buffer.from(forge.toDer(node).getBytes(), 'binary');
const u = forge.Class.UNIVERSAL;

describe('DER writer: the bytes forge wrote', () => {
  const long = Buffer.alloc(300, 0xab); // a long-form length (two octets)
  const cases: [string, ReturnType<typeof primitive>, Forge.asn1.Asn1][] = [
    ['INTEGER', primitive(universal.integer, Buffer.from([0x7f, 1, 2])), forge.create(u, 2, false, '\x7f\x01\x02')],
    ['OCTET STRING of 300', primitive(universal.octetString, long), forge.create(u, 4, false, long.toString('binary'))],
    ['OCTET STRING of 128', primitive(universal.octetString, Buffer.alloc(128)), forge.create(u, 4, false, Buffer.alloc(128).toString('binary'))],
    ['NULL, TRUE', sequence([nullValue(), trueValue()]), forge.create(u, 16, true, [forge.create(u, 5, false, ''), forge.create(u, 1, false, '\xff')])],
    ['SET', set([primitive(universal.printableString, 'db1')]), forge.create(u, 17, true, [forge.create(u, 19, false, 'db1')])],
    ['UTF8String', primitive(universal.utf8String, Buffer.from('Zoë')), forge.create(u, 12, false, Buffer.from('Zoë').toString('binary'))],
    ['[0] EXPLICIT', explicit(0, [primitive(universal.integer, Buffer.from([2]))]), forge.create(forge.Class.CONTEXT_SPECIFIC, 0, true, [forge.create(u, 2, false, '\x02')])],
    ['[7] IMPLICIT', implicit(7, Buffer.from([127, 0, 0, 1])), forge.create(forge.Class.CONTEXT_SPECIFIC, 7, false, '\x7f\x00\x00\x01')],
    ['BIT STRING', bitString(Buffer.from([1, 2])), forge.create(u, 3, false, '\x00\x01\x02')],
    ['named bits', namedBits([0, 2]), forge.create(u, 3, false, '\x05\xa0')],
  ];
  for (const oid of ['2.5.4.3', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.2', '2.5.29.14', '1.2.840.113549.1.1.11', '2.999.3']) {
    cases.push([`OID ${oid}`, objectId(oid), forge.create(u, 6, false, forge.oidToDer(oid).getBytes())]);
  }
  for (const date of [new Date('2026-01-02T03:04:05Z'), new Date('2049-12-31T23:59:59Z'), new Date('2050-01-01T00:00:00Z'), new Date('9999-12-31T23:59:59Z')]) {
    const forgeTime = date.getUTCFullYear() < 2050 ? forge.create(u, 23, false, forge.dateToUtcTime(date)) : forge.create(u, 24, false, forge.dateToGeneralizedTime(date));
    cases.push([`time ${date.toISOString()}`, time(date), forgeTime]);
  }
  for (const [name, ours, theirs] of cases) {
    it(name, () => assert.deepEqual(encode(ours), forgeDer(theirs)));
  }
  it('object identifiers read back as written', () => {
    for (const oid of ['2.5.4.3', '1.2.840.10045.4.3.2', '2.999.3', '0.9.2342.19200300.100.1.25']) assert.equal(dottedOid(objectId(oid)), oid);
    assert.throws(() => objectId('1.40'), /not an object identifier/);
    assert.throws(() => objectId('3.1'), /not an object identifier/);
  });
});

describe('DER reader', () => {
  it('reads certificates made by OpenSSL (RSA and ECDSA) and encodes them back byte for byte', () => {
    for (const key of [['-newkey', 'rsa:2048'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']]) {
      const pem = execFileSync('openssl', ['req', '-x509', ...key, '-nodes', '-keyout', '/dev/null', '-days', '1', '-subj', '/CN=db1.example.com/O=Zoë', '-addext', 'subjectAltName=DNS:db1.example.com,IP:10.0.0.1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const der = new X509Certificate(pem).raw;
      const node = parse(der);
      assert.deepEqual(encode(node), der);
      const forgeNode = forge.fromDer(der.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false } as never);
      assert.deepEqual(encode(node), forgeDer(forgeNode), 'forge reads the same structure');
      const tbs = childrenOf(childrenOf(node)[0]);
      assert.equal(dottedOid(childrenOf(childrenOf(childrenOf(tbs[5])[0])[0])[0]), '2.5.4.3', 'the subject starts with a CN');
      assert.equal(contentOf(childrenOf(childrenOf(childrenOf(tbs[5])[0])[0])[1]).toString(), 'db1.example.com');
    }
  });
  const refused: [string, number[], RegExp][] = [
    ['trailing bytes', [0x05, 0x00, 0x00], /1 bytes after the end/],
    ['indefinite length', [0x30, 0x80, 0x00, 0x00], /indefinite length/],
    ['a long form for a short length', [0x04, 0x81, 0x01, 0xaa], /shortest form/],
    ['a leading zero length octet', [0x04, 0x82, 0x00, 0x80, ...new Array(128).fill(0)], /shortest form/],
    ['content past the end', [0x04, 0x05, 0x01], /runs past the end/],
    ['a cut-short child', [0x30, 0x03, 0x04, 0x05, 0x01], /runs past the end/],
    ['a high tag number', [0x1f, 0x22, 0x00], /high tag number/],
    ['nothing', [], /cut short/],
  ];
  for (const [name, bytes, message] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => parse(Buffer.from(bytes)), message));
  }
});
