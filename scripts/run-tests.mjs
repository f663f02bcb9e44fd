#!/usr/bin/env node
// Runs the compiled tests of the given suites (unit, integration, e2e) with
// node's test runner. Each test file is its own process; two at a time suits
// the 2-core machines we run on (each integration file starts its own clusters).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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
const concurrency = process.env.PGSSL_TEST_CONCURRENCY ?? '2';
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
