/** keyUsage read from the DER of certificates openssl made (Node exposes only extendedKeyUsage). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readKeyUsage } from '../../src/certs/extensions.js';

const dir = mkdtempSync(join(tmpdir(), 'pgssl-keyusage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function certificate(extensions: string[]): X509Certificate {
  const out = join(dir, 'c.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'c.key'), '-out', out, '-days', '1', '-subj', '/CN=x', ...extensions.flatMap((e) => ['-addext', e])], { stdio: 'ignore' });
  return new X509Certificate(readFileSync(out));
}

describe('readKeyUsage', () => {
  const cases: [string, string[], ReturnType<typeof readKeyUsage>][] = [
    ['no keyUsage extension', [], undefined],
    ['a server certificate', ['keyUsage=critical,digitalSignature,keyEncipherment'], ['digitalSignature', 'keyEncipherment']],
    ['a CA', ['keyUsage=critical,keyCertSign,cRLSign'], ['keyCertSign', 'cRLSign']],
    ['bit 8, in the second byte', ['keyUsage=keyAgreement,decipherOnly'], ['keyAgreement', 'decipherOnly']],
  ];
  for (const [name, extensions, expected] of cases) it(name, () => assert.deepEqual(readKeyUsage(certificate(extensions).raw), expected));
  it('says "unreadable" for bytes that are not a certificate, rather than guessing', () => {
    assert.equal(readKeyUsage(new Uint8Array([0x30, 0x82, 0xff])), 'unreadable');
    assert.equal(readKeyUsage(new Uint8Array([])), 'unreadable');
  });
});
