/** `pgssl cert inspect` as a user runs it: exit 0 sound, 3 a problem, 2 unreadable or not PEM. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, opensslServerCert } from '../support/cluster.js';
import { tempDir } from '../support/tempDir.js';

const env = cleanEnv({ HOME: '/nonexistent' });
const dir = tempDir('pgssl-inspect');
let files: { cert: string; key: string; ca: string };

before(() => {
  files = opensslServerCert(dir, { san: 'DNS:db1.example.com,IP:10.0.0.5', days: 90 });
});

describe('pgssl cert inspect', () => {
  it('exit 0 for a sound pair, chain and names', async () => {
    const r = await runPgssl(['cert', 'inspect', files.cert, files.key, '--ca', files.ca, '--host', 'db1.example.com', '--host', '10.0.0.5', '--no-color'], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /key matches certificate: yes/);
    assert.match(r.stdout, /chain: verified \(2 certificates\)/);
    assert.match(r.stdout, /names: DNS:db1\.example\.com, IP:10\.0\.0\.5/);
  });
  it('exit 3 for a name that is not covered or a key that does not match, with --json', async () => {
    const name = await runPgssl(['cert', 'inspect', files.cert, '--host', 'db2.example.com', '--json'], { env });
    assert.equal(name.code, 3);
    assert.deepEqual(parseJsonOutput(name).problems.map((p: { id: string }) => p.id), ['NAME_NOT_COVERED']);
    const otherKey = join(dir, 'other.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', otherKey], { stdio: 'ignore' });
    const mismatch = await runPgssl(['cert', 'inspect', files.cert, otherKey], { env });
    assert.equal(mismatch.code, 3);
    assert.match(mismatch.stdout, /KEY_MISMATCH/);
  });
  it('exit 2 for a missing file or one that is not PEM', async () => {
    const missing = await runPgssl(['cert', 'inspect', join(dir, 'nope.crt')], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.crt: no such file/);
    writeFileSync(join(dir, 'garbage.crt'), 'hello');
    const garbage = await runPgssl(['cert', 'inspect', join(dir, 'garbage.crt')], { env });
    assert.equal(garbage.code, 2);
    assert.match(garbage.stdout, /NOT_PEM: .*holds no PEM block/);
  });
});
