/**
 * The built CLI on the files the engine used to misjudge, offline: a file
 * without rules is refused (exit 2) and nothing is written; a remote host rule
 * whose keyword comes from an @file is never reported as compliant. What the
 * server makes of each is proven in hba-oracle.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv } from '../support/cluster.js';
import { fileState } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';

const work = tempDir('pgssl-hba-verdicts');
const state = join(work, 'state');
const env = cleanEnv({ HOME: '/nonexistent', PGSSL_STATE_DIR: state });

/** A fresh folder under `work` (which tempDir() removes at the end) holding these files. */
function folder(files: Record<string, string>): string {
  const dir = join(work, Math.random().toString(36).slice(2));
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('a pg_hba.conf without rules', () => {
  for (const major of ['14', '18']) {
    it(`hba rewrite --write refuses it (exit 2) with the cause and the fix, and writes nothing (PostgreSQL ${major})`, async () => {
      const dir = folder({ 'pg_hba.conf': '# every rule commented out\n#host all all 10.0.0.0/8 md5\n\n' });
      const file = join(dir, 'pg_hba.conf');
      const before = { file: fileState(file), listing: readdirSync(dir) };
      const r = await runPgssl(['hba', 'rewrite', file, '--write', '--pg-major', major], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`is not a valid pg_hba.conf for PostgreSQL ${major}; nothing was changed`));
      assert.match(r.stderr, new RegExp(`  ${file}: configuration file "${file}" contains no entries: PostgreSQL ${major} refuses to start with it, and a reload keeps the previous rules; add at least one rule`));
      assert.deepEqual({ file: fileState(file), listing: readdirSync(dir) }, before, 'the file and its folder are as they were');
      assert.deepEqual(readdirSafe(join(state, 'backups')), [], 'no backup made');
    });
  }
  it('hba check names the include files when they add no rule either (16+)', async () => {
    const dir = folder({ 'pg_hba.conf': 'include_dir conf.d\ninclude_if_exists missing.conf\n' });
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', '10-empty.conf'), '# nothing yet\n');
    const r = await runPgssl(['hba', 'check', join(dir, 'pg_hba.conf'), '--pg-major', '16'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /contains no entries \(the files it includes add none either\)/);
  });
});

describe('a remote host rule whose connection type comes from an @file', () => {
  const files = { 'pg_hba.conf': 'local all all peer\n@types.list all all 10.0.0.0/8 md5\nhost all all 192.0.2.0/24 md5\n', 'types.list': 'host\n' };
  it('hba check: not compliant (exit 3), listed with why and what to do', async () => {
    const dir = folder(files);
    const file = join(dir, 'pg_hba.conf');
    const text = await runPgssl(['hba', 'check', file, '--no-color'], { env });
    assert.equal(text.code, 3);
    assert.match(text.stdout, new RegExp(`1 rule\\(s\\) let remote clients in without TLS, and pgssl cannot change them: their connection type is read from an @file[^\\n]*by hand\\n  ${file}:2: @types.list all all 10.0.0.0/8 md5`));
    const json = parseJsonOutput(await runPgssl(['hba', 'check', file, '--json'], { env }));
    assert.equal(json.compliant, false);
    assert.deepEqual(json.notRewritable.map((r: { line: number }) => r.line), [2]);
    assert.deepEqual(json.plainRemote.map((r: { line: number }) => r.line), [3]);
  });
  it('hba rewrite --write: converts the rest, says which rule it left, and leaves the @file alone', async () => {
    const dir = folder(files);
    const list = fileState(join(dir, 'types.list'));
    const r = await runPgssl(['hba', 'rewrite', join(dir, 'pg_hba.conf'), '--write'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 rule\(s\) changed to hostssl/);
    assert.match(r.stderr, new RegExp(`1 remote host rule\\(s\\) left as written \\(${dir}/pg_hba.conf:2\\): their connection type is read from an @file`));
    assert.deepEqual(fileState(join(dir, 'types.list')), list);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
