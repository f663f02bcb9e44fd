/** rotate --ca's pure decisions: which phase a run is, what each bundle holds, the new CA's file names, the record, the flag combinations. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { buildNewCa } from '../../src/certs/authority.js';
import { defaultKeySpec, generateKeyPair } from '../../src/certs/keys.js';
import { optionProblems } from '../../src/commands/optionRules.js';
import { shortTlsReason } from '../../src/flow/rotate/caProof.js';
import { caPhase, newCaPaths, newServerCaPath, overlapClientBundle, overlapServerBundle, parseCaRotationRecord, pemBlocks, withoutOldCa, type CaRotationRecord } from '../../src/flow/rotate/caRotation.js';

const now = new Date('2026-12-01T22:00:13.456Z');
let oldCa: string;
let newCa: string;
let otherCa: string;
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
const fingerprints = (bundle: string) => pemBlocks(bundle).map(fingerprint);

before(async () => {
  [oldCa, newCa, otherCa] = await Promise.all(['old', 'new', 'corporate'].map(async (label) => buildNewCa(await generateKeyPair(defaultKeySpec), label).certificatePem));
});

const record = (phase: 'overlap' | 'finished'): CaRotationRecord => ({
  version: 1,
  phase,
  began: now.toISOString(),
  server: { systemIdentifier: '1', dataDirectory: '/d', port: 5432 },
  clientCaFile: '/s/ca.crt',
  old: { certPath: '/s/ca-before-x.crt', fingerprint: 'a', subject: 'CN=old', notAfter: now.toISOString() },
  new: { certPath: '/s/ca-x.crt', keyPath: '/s/ca-x.key', fingerprint: 'b', subject: 'CN=new', notAfter: now.toISOString() },
});

describe('caPhase', () => {
  const cases: [string, CaRotationRecord | undefined, boolean, string][] = [
    ['no record, --ca: begin', undefined, false, 'begin'],
    ['no record, --finish: nothing to finish', undefined, true, 'nothing-to-finish'],
    ['in the overlap, --ca again: already in it (no change)', record('overlap'), false, 'in-overlap'],
    ['in the overlap, --finish: finish', record('overlap'), true, 'finish'],
    ['finished, --ca: a new rotation begins', record('finished'), false, 'begin'],
    ['finished, --finish: nothing to finish', record('finished'), true, 'nothing-to-finish'],
  ];
  for (const [label, given, finish, kind] of cases) it(label, () => assert.equal(caPhase(given, finish).kind, kind));
});

describe('bundles', () => {
  it('the client bundle: old first (ca.crt is also the certificate of ca.key until --finish), then new, each once', () => {
    assert.deepEqual(fingerprints(overlapClientBundle(oldCa, newCa)), [fingerprint(oldCa), fingerprint(newCa)]);
    assert.deepEqual(fingerprints(overlapClientBundle(oldCa + oldCa, newCa)), [fingerprint(oldCa), fingerprint(newCa)]);
  });
  it('the server bundle keeps what ssl_ca_file trusted (another CA for client certificates), adds old and new once', () => {
    assert.deepEqual(fingerprints(overlapServerBundle(otherCa + oldCa, oldCa, newCa)), [fingerprint(otherCa), fingerprint(oldCa), fingerprint(newCa)]);
    assert.deepEqual(fingerprints(overlapServerBundle(undefined, oldCa, newCa)), [fingerprint(oldCa), fingerprint(newCa)], 'no ssl_ca_file before: old and new');
  });
  it('after --finish: the old CA dropped, everything else kept, the new CA always there', () => {
    const finished = withoutOldCa(overlapServerBundle(otherCa, oldCa, newCa), fingerprint(oldCa), newCa);
    assert.deepEqual(fingerprints(finished), [fingerprint(otherCa), fingerprint(newCa)]);
    assert.deepEqual(fingerprints(withoutOldCa(oldCa, fingerprint(oldCa), newCa)), [fingerprint(newCa)], 'a file that held only the old CA: the new one alone');
  });
  it('CRLF and a missing final newline still give loadable blocks', () => {
    const crlf = oldCa.replace(/\n/g, '\r\n').trimEnd();
    assert.deepEqual(fingerprints(overlapClientBundle(crlf, newCa)), [fingerprint(oldCa), fingerprint(newCa)]);
    assert.ok(!overlapClientBundle(crlf, newCa).includes('\r'));
  });
});

describe('file names', () => {
  it('the new CA as ca-<stamp>, the old one as ca-before-<stamp>, never a name that exists', () => {
    const taken = new Set([join('/s', 'ca-before-20261201T220013Z.key')]);
    const paths = newCaPaths('/s', now, (p) => taken.has(p));
    assert.deepEqual(paths, { certPath: '/s/ca-20261201T220013Z-2.crt', keyPath: '/s/ca-20261201T220013Z-2.key', oldCertPath: '/s/ca-before-20261201T220013Z-2.crt', oldKeyPath: '/s/ca-before-20261201T220013Z-2.key' });
    assert.equal(newServerCaPath('/d', now, () => false), '/d/root-20261201T220013Z.crt');
  });
});

describe('the record', () => {
  it('round-trips, and refuses what pgssl did not write', () => {
    assert.deepEqual(parseCaRotationRecord(JSON.stringify(record('overlap'))), record('overlap'));
    assert.throws(() => parseCaRotationRecord('{"version":2}'), /not a CA rotation record pgssl wrote/);
    assert.throws(() => parseCaRotationRecord(JSON.stringify({ ...record('overlap'), phase: 'maybe' })), /not a CA rotation record/);
    assert.throws(() => parseCaRotationRecord('not json'));
  });
});

describe('rotate --ca flag combinations (optionRules)', () => {
  const cases: [string, Record<string, string | boolean | undefined>, RegExp | undefined][] = [
    ['--ca alone', { '--ca': true }, undefined],
    ['--ca --finish', { '--ca': true, '--finish': true }, undefined],
    ['--finish alone', { '--finish': true }, /^--finish without --ca: it is the second phase of a CA rotation/],
    ['--ca with --ca-cert/--ca-key (a CA pgssl does not keep)', { '--ca': true, '--ca-cert': 'c.crt', '--ca-key': 'c.key' }, /^--ca with --ca-cert, --ca-key: --ca rotates pgssl's own CA/],
    ['--ca with --cert-file', { '--ca': true, '--cert-file': 'x.crt' }, /^--ca with --cert-file: /],
    ['--ca with --check', { '--ca': true, '--check': true }, /^--ca with --check: a CA rotation is begun and finished by hand/],
    ['a flag not given (false) is no clash', { '--ca': true, '--check': false }, undefined],
  ];
  for (const [label, given, expected] of cases) {
    it(label, () => {
      const problems = optionProblems('rotate', given);
      if (expected) assert.match(problems.join('\n'), expected);
      else assert.deepEqual(problems, []);
    });
  }
});

describe('shortTlsReason', () => {
  it("OpenSSL's alert in one line, anything else its first line", () => {
    assert.equal(shortTlsReason('804C6688267F0000:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 48\n'), 'tlsv1 alert unknown ca');
    assert.equal(shortTlsReason('socket hang up\nmore'), 'socket hang up');
  });
});
