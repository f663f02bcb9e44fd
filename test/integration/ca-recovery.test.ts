/**
 * pgssl's CA folder after a kill (issue 13, defect 12), with real files: a
 * key without its certificate, or a certificate that is not the key's, is a
 * half-written CA — replaced, and the run says so; a CA that is complete but
 * unusable stops the run with the cause and the fix, changing nothing.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { caFilesIn, caState, issueWithStateCa, type ServerIssue } from '../../src/certs/authority.js';
import { buildCaCertificate, buildSelfSignedServerCertificate } from '../../src/certs/build.js';
import { defaultKeySpec, generateKeyPair } from '../../src/certs/keys.js';
import { UsageError } from '../../src/errors.js';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';

const work = mkdtempSync(join(tmpdir(), 'pgssl-ca-recovery-'));
after(() => rmSync(work, { recursive: true, force: true }));
let folders = 0;
const newFolder = () => {
  const dir = join(work, `state${folders++}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
};
const folderBytes = (dir: string) => Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name)).toString('base64')]));
const request: ServerIssue = { commonName: 'db1', subjectAltNames: ['db1'], days: 30, key: defaultKeySpec };
const matches = (dir: string) => new X509Certificate(readFileSync(caFilesIn(dir).certPath)).checkPrivateKey(createPrivateKey(readFileSync(caFilesIn(dir).keyPath)));

describe('a half-written CA is replaced, saying so', () => {
  it('ca.key without ca.crt: a later enable replaces it, reports it, and TLS works with the new CA', async () => {
    const state = newFolder();
    const orphan = (await generateKeyPair(defaultKeySpec)).privateKeyPem;
    writeFileSync(caFilesIn(state).keyPath, orphan, { mode: 0o600 });
    assert.equal(caState(caFilesIn(state)).state, 'half-written');
    const cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
    try {
      const r = await runPgssl(['enable', '--yes', '--json'], { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(parseJsonOutput(r).certificate.description, /the CA was half-written — .*ca\.key has no certificate beside it \(a run was interrupted between writing ca\.key and ca\.crt\) — and nothing can have been signed by it, so it was replaced by a new one/);
      assert.notEqual(readFileSync(caFilesIn(state).keyPath, 'utf8'), orphan, 'a new key');
      assert.ok(matches(state), 'ca.crt is the new key\'s');
      const session = psql(`host=localhost hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${caFilesIn(state).certPath}`, 'SELECT 1');
      assert.equal(session.code, 0, session.stderr);
    } finally {
      cluster.stop();
    }
  });
  it('a ca.crt that is not the certificate of ca.key (a kill after a new key): replaced', async () => {
    const state = newFolder();
    const [oldKeys, newKeys] = await Promise.all([generateKeyPair(defaultKeySpec), generateKeyPair(defaultKeySpec)]);
    writeFileSync(caFilesIn(state).certPath, buildCaCertificate({ commonName: 'old', days: 30, keys: oldKeys }));
    writeFileSync(caFilesIn(state).keyPath, newKeys.privateKeyPem, { mode: 0o600 });
    const issued = await issueWithStateCa(state, request);
    assert.match(issued.caCreated?.replaced ?? '', /ca\.crt is not the certificate of .*ca\.key/);
    assert.ok(matches(state));
    assert.ok(new X509Certificate(issued.certificatePem).checkIssued(new X509Certificate(readFileSync(caFilesIn(state).certPath))));
  });
});

describe('a complete CA that cannot be used stops the run, naming the cause and the fix; nothing changes', () => {
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    [
      'a certificate without its key',
      async (dir) => writeFileSync(caFilesIn(dir).certPath, buildCaCertificate({ commonName: 'x', days: 30, keys: await generateKeyPair(defaultKeySpec) })),
      /ca\.crt is there but its key .*ca\.key is not, so this CA cannot sign any more\. Put the key back from a backup; or move ca\.crt out of the folder/,
    ],
    [
      'a pair whose certificate is not a CA (CA:FALSE)',
      async (dir) => {
        const keys = await generateKeyPair(defaultKeySpec);
        writeFileSync(caFilesIn(dir).certPath, buildSelfSignedServerCertificate({ commonName: 'x', days: 30, keys }));
        writeFileSync(caFilesIn(dir).keyPath, keys.privateKeyPem, { mode: 0o600 });
      },
      /ca\.crt is not a CA certificate \(basicConstraints CA:FALSE\)\. Move ca\.crt and ca\.key out of the folder and run again/,
    ],
    [
      'an expired CA',
      async (dir) => {
        const keys = await generateKeyPair(defaultKeySpec);
        writeFileSync(caFilesIn(dir).certPath, buildCaCertificate({ commonName: 'x', days: 1, keys, now: new Date(Date.now() - 3 * 86_400_000) }));
        writeFileSync(caFilesIn(dir).keyPath, keys.privateKeyPem, { mode: 0o600 });
      },
      /the CA certificate .*ca\.crt expired on .*\. Move ca\.crt and ca\.key out of the folder/,
    ],
    [
      'a passphrase-protected key',
      async (dir) => {
        const keys = await generateKeyPair(defaultKeySpec);
        writeFileSync(caFilesIn(dir).certPath, buildCaCertificate({ commonName: 'x', days: 30, keys }));
        writeFileSync(caFilesIn(dir).keyPath, createPrivateKey(keys.privateKeyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p' }) as string, { mode: 0o600 });
      },
      /ca\.key is not a usable private key \(it is passphrase-protected/,
    ],
  ];
  for (const [title, setup, message] of cases) {
    it(title, async () => {
      const state = newFolder();
      await setup(state);
      const before = folderBytes(state);
      await assert.rejects(issueWithStateCa(state, request), (error: unknown) => error instanceof UsageError && message.test(error.message));
      const viaCli = await runPgssl(['ca', 'init', '--dir', state], { env: { PATH: process.env.PATH } });
      assert.equal(viaCli.code, 2, viaCli.stderr);
      assert.match(viaCli.stderr, message);
      assert.match(viaCli.stderr, /pgssl ca init does not replace it by itself; nothing was changed/);
      assert.deepEqual(folderBytes(state), before, 'the CA folder is byte-identical');
    });
  }
});
