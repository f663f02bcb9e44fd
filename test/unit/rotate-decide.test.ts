/** rotate's pure decisions: due or not at the threshold, the new pair's names on disk, the new certificate's names and key type. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expiryOf, keySpecOfCertificate, namesForNewCertificate, newPairPaths, pairAlreadyInForce, utcStamp } from '../../src/flow/rotate/decide.js';
import { buildSelfSignedServerCertificate } from '../../src/certs/build.js';
import { fingerprintOfPem } from '../../src/certs/fingerprint.js';
import { generateKeyPair } from '../../src/certs/keys.js';
import { tempDir } from '../support/tempDir.js';

const day = 86_400_000;
const now = new Date('2026-12-01T22:00:13.456Z');

describe('expiryOf', () => {
  const cases: [string, number, number, boolean, number][] = [
    // label, ms until notAfter, threshold days, due, whole days left
    ['well before the threshold', 40 * day, 30, false, 40],
    ['one second past the threshold', 30 * day + 1000, 30, false, 30],
    ['exactly at the threshold: due', 30 * day, 30, true, 30],
    ['inside it', 9 * day + 3_600_000, 30, true, 9],
    ['threshold 0: due only once expired', 1000, 0, false, 0],
    ['expired', -2 * day, 0, true, -2],
  ];
  for (const [label, left, within, due, daysLeft] of cases) {
    it(label, () => {
      const expiry = expiryOf(new Date(now.getTime() + left), now, within);
      assert.equal(expiry.due, due);
      assert.equal(expiry.daysLeft, daysLeft);
      assert.equal(expiry.withinDays, within);
    });
  }
});

describe('newPairPaths', () => {
  it('server-<UTC stamp> beside each file in force, keeping their extensions', () => {
    assert.equal(utcStamp(now), '20261201T220013Z');
    const paths = newPairPaths({ certPath: '/etc/ssl/certs/db.pem', keyPath: '/etc/ssl/private/db.key' }, now, () => false);
    assert.deepEqual(paths, { certPath: '/etc/ssl/certs/server-20261201T220013Z.pem', keyPath: '/etc/ssl/private/server-20261201T220013Z.key' });
  });

  it('never a name that exists (a second rotation in the same second), and never one file for both', () => {
    const taken = new Set(['/data/server-20261201T220013Z.crt', '/data/server-20261201T220013Z-2.key']);
    const paths = newPairPaths({ certPath: '/data/server.crt', keyPath: '/data/server.key' }, now, (p) => taken.has(p));
    assert.deepEqual(paths, { certPath: '/data/server-20261201T220013Z-3.crt', keyPath: '/data/server-20261201T220013Z-3.key' });
    assert.deepEqual(newPairPaths({ certPath: '/data/both.pem', keyPath: '/data/both.pem' }, now, () => false), { certPath: '/data/server-20261201T220013Z.pem', keyPath: '/data/server-20261201T220013Z.key' });
    assert.deepEqual(newPairPaths({ certPath: '/a/db.pem', keyPath: '/b/db.pem' }, now, () => false, '/srv'), { certPath: '/srv/server-20261201T220013Z.pem', keyPath: '/srv/server-20261201T220013Z.key' });
  });

  it('--cert-dir puts both there', () => {
    assert.deepEqual(newPairPaths({ certPath: '/data/server.crt', keyPath: '/data/server.key' }, now, () => false, '/srv/tls'), { certPath: '/srv/tls/server-20261201T220013Z.crt', keyPath: '/srv/tls/server-20261201T220013Z.key' });
  });
});

describe('the new certificate', () => {
  const dir = tempDir('pgssl-rotate-unit');
  const make = (keyArgs: string[], san: string) => {
    const key = join(dir, 'k.pem');
    const cert = join(dir, 'c.pem');
    writeFileSync(join(dir, 'ext'), `subjectAltName = ${san}\n`);
    execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=db1.example.com', '-addext', `subjectAltName = ${san}`], { stdio: 'ignore' });
    return new X509Certificate(readFileSync(cert));
  };

  it('names: those in force first, then those found now, each once (DNS names compared lower-case)', () => {
    const served = make(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'DNS:db1.example.com,DNS:Old-Alias.example.com,IP:10.0.0.5');
    assert.deepEqual(namesForNewCertificate(served, ['DNS:db1.example.com', 'DNS:old-alias.example.com', 'DNS:localhost', 'IP:127.0.0.1', 'IP:10.0.0.5']), [
      'DNS:db1.example.com',
      'DNS:old-alias.example.com',
      'IP:10.0.0.5',
      'DNS:localhost',
      'IP:127.0.0.1',
    ]);
    assert.deepEqual(keySpecOfCertificate(served), { type: 'ecdsa', curve: 'prime256v1' });
  });

  it('an IPv6 address in force (Node writes it in full) and the same one found now (::1) are one name', () => {
    const served = make(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'DNS:localhost,IP:::1');
    assert.deepEqual(namesForNewCertificate(served, ['DNS:localhost', 'IP:::1', 'IP:127.0.0.1']), ['DNS:localhost', 'IP:0:0:0:0:0:0:0:1', 'IP:127.0.0.1']);
  });

  it('key type: the one in force (RSA 3072 stays RSA 3072); what pgssl does not issue gets the default', () => {
    assert.deepEqual(keySpecOfCertificate(make(['-newkey', 'rsa:3072'], 'DNS:a')), { type: 'rsa', bits: 3072 });
    assert.deepEqual(keySpecOfCertificate(make(['-newkey', 'ed25519'], 'DNS:a')), { type: 'ecdsa', curve: 'prime256v1' });
  });
});

describe('pairAlreadyInForce: --cert-file/--key-file that are the pair in force change nothing', () => {
  it('only when both files hold these bytes (CRLF aside) and the server serves that certificate', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'prime256v1' });
    const certificatePem = buildSelfSignedServerCertificate({ commonName: 'db1', subjectAltNames: ['DNS:db1'], days: 30, keys });
    const pair = { certificatePem, privateKeyPem: keys.privateKeyPem };
    const served = fingerprintOfPem(certificatePem);
    assert.equal(pairAlreadyInForce(pair, { certText: certificatePem.replace(/\n/g, '\r\n'), keyText: keys.privateKeyPem }, served), true);
    assert.equal(pairAlreadyInForce(pair, { certText: certificatePem, keyText: keys.privateKeyPem }, 'ab'.repeat(32)), false, 'served another certificate (not reloaded yet)');
    assert.equal(pairAlreadyInForce(pair, { certText: certificatePem, keyText: (await generateKeyPair({ type: 'ecdsa', curve: 'prime256v1' })).privateKeyPem }, served), false);
    assert.equal(pairAlreadyInForce(pair, { certText: undefined, keyText: keys.privateKeyPem }, served), false);
  });
});
