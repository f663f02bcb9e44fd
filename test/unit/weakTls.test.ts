/** Which weak handshakes status and enable try, and what enable does with their result. Pure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredTlsSettings } from '../../src/flow/tlsSettings.js';
import { strictCiphers } from '../../src/server/settings.js';
import type { WeakTlsOutcome } from '../../src/server/weakTls.js';
import { onlyStrongSuites, probesFor } from '../../src/server/weakTlsPlan.js';

describe('onlyStrongSuites: lists that by OpenSSL grammar can only yield forward-secret AEAD suites', () => {
  const cases: [string, boolean][] = [
    [strictCiphers, true],
    ['ECDHE+AESGCM', true],
    ['EECDH+AESGCM:EECDH+CHACHA20:!aNULL:!MD5:@STRENGTH', true],
    ['ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305', true],
    ['HIGH:MEDIUM:+3DES:!aNULL', false], // PostgreSQL's default
    ['AES128-SHA:DES-CBC3-SHA', false], // the token check called this strong
    ['ECDHE+AES', false], // AES includes CBC
    ['AESGCM', false], // includes static RSA
    ['DHE+AESGCM', false], // includes anonymous DH
    ['ECDHE-RSA-AES128-SHA', false],
    ['!aNULL', false], // adds nothing: OpenSSL would refuse it, and we know nothing
    ['', false],
  ];
  for (const [list, strong] of cases) it(`'${list}' → ${strong}`, () => assert.equal(onlyStrongSuites(list), strong));
});

describe('probesFor', () => {
  const ids = (ciphers: string | undefined, minProtocol: string | undefined) => probesFor({ ciphers, minProtocol }).map((p) => p.id);
  it("runs nothing against pgssl's own settings (each refused handshake is a server log line)", () => {
    assert.deepEqual(ids(strictCiphers, 'TLSv1.2'), []);
    assert.deepEqual(ids(strictCiphers, 'TLSv1.3'), []);
  });
  it('runs the cipher probes for a list not known strong, the protocol probes for a floor below TLS 1.2', () => {
    assert.deepEqual(ids('HIGH:MEDIUM:+3DES:!aNULL', 'TLSv1.2'), ['static-rsa', 'cbc', '3des', 'rc4', 'null', 'anonymous', 'export']);
    assert.deepEqual(ids(strictCiphers, 'TLSv1'), ['TLSv1', 'TLSv1.1']);
    assert.deepEqual(ids(strictCiphers, ''), ['TLSv1', 'TLSv1.1'], "'' is no floor at all");
    assert.equal(ids(undefined, undefined).length, 9);
  });
});

describe('desiredTlsSettings with weak-handshake evidence', () => {
  const setting = (name: string, value: string) => ({ name, value, source: 'configuration file', sourcefile: null, sourceline: null, pendingRestart: false });
  const settings = { ssl: setting('ssl', 'off'), ssl_ciphers: setting('ssl_ciphers', 'AES128-SHA:DES-CBC3-SHA'), ssl_min_protocol_version: setting('ssl_min_protocol_version', 'TLSv1.2') };
  const accepted: WeakTlsOutcome[] = [{ probe: 'static-rsa', kind: 'cipher', outcome: 'accepted', protocol: 'TLSv1.2', cipher: 'AES128-SHA' }];
  const cipherChange = (input: Partial<Parameters<typeof desiredTlsSettings>[0]>) =>
    desiredTlsSettings({ settings, files: [], minTls: 'TLSv1.2', keepCiphers: false, ...input }).find((c) => c.name === 'ssl_ciphers');
  it('keeps a list the token check calls strict when no handshake proved otherwise (the old behaviour)', () => {
    assert.equal(cipherChange({}), undefined);
    assert.equal(cipherChange({ weakTls: [{ probe: 'static-rsa', kind: 'cipher', outcome: 'refused', reason: 'no shared cipher' }] }), undefined);
  });
  it('replaces a list the server proved weak, and says why', () => {
    const change = cipherChange({ weakTls: accepted });
    assert.deepEqual(change && { after: change.after, reason: change.reason }, { after: strictCiphers, reason: 'the server accepted weak suites: AES128-SHA' });
    assert.equal(change?.sql, `ALTER SYSTEM SET ssl_ciphers = '${strictCiphers}'`);
  });
  it('--keep-ciphers keeps even a list proven weak; an accepted old protocol changes nothing the floor does not already', () => {
    assert.equal(cipherChange({ weakTls: accepted, keepCiphers: true }), undefined);
    const protocolOnly: WeakTlsOutcome[] = [{ probe: 'TLSv1', kind: 'protocol', outcome: 'accepted', protocol: 'TLSv1', cipher: 'AES128-SHA' }];
    assert.equal(cipherChange({ weakTls: protocolOnly }), undefined);
  });
});
