#!/usr/bin/env node
// Runs the compiled tests of the given suites (unit, integration, e2e) with
// node's test runner. Each test file is its own process; two at a time suits
// the 2-core machines we run on (each integration file starts its own clusters).
//
// The tests get a temp directory of their own (TMPDIR, which os.tmpdir() and
// the tools they start honour), listed before and after: whatever a test left
// there (state folders with CA keys, certificates, fake homes, clusters) is
// printed and fails the run. A private one, because other runs on the same
// machine come and go in the shared /tmp at the same time.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suites = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) files.push(path);
  }
};
for (const suite of suites) {
  const dir = join(root, 'dist', 'test', suite);
  if (!existsSync(dir)) {
    console.error(`no compiled tests in ${dir}: run npm run build first`);
    process.exit(2);
  }
  walk(dir);
}

// Like /tmp: the servers' OS user (postgres) makes folders in it too.
const testTmp = mkdtempSync(join(tmpdir(), 'pgssl-tests-'));
chmodSync(testTmp, 0o1777);
// A copy of the embedded binaries the postgres user can reach (src/cluster/binaries.ts):
// a cache made on purpose, not a leftover.
const cache = (name) => name.startsWith('pgssl-pgbin-');
const before = readdirSync(testTmp);

const concurrency = process.env.PGSSL_TEST_CONCURRENCY ?? '2';
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: testTmp },
});

const left = readdirSync(testTmp).filter((name) => !before.includes(name) && !cache(name));
console.log(`temp directory ${testTmp}: ${before.length} entries before the tests, ${left.length} left after (not counting the binaries cache)`);
if (left.length > 0) {
  console.error(`the tests left ${left.length} entries in the temp directory (each test must remove what it made, also when it fails):`);
  for (const name of left.sort()) console.error(`  ${name}`);
}
rmSync(testTmp, { recursive: true, force: true });
process.exit(result.status !== 0 ? (result.status ?? 1) : left.length > 0 ? 1 : 0);
