/**
 * Which PostgreSQL binaries the tests use: PGSSL_TEST_PGBIN if set, else what
 * pgssl demo would pick (the system's, else the newest embedded major).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findServerBinaries } from '../../src/cluster/binaries.js';

export const repoRoot = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

export function testBinDir(): string {
  const dir = findServerBinaries(process.env.PGSSL_TEST_PGBIN);
  if (!dir) throw new Error('no PostgreSQL server binaries found: install postgresql, run npm ci, or set PGSSL_TEST_PGBIN');
  return dir;
}

/** psql for tests: the system's (it talks to every major 12–18). */
export function psqlPath(): string {
  for (const candidate of ['/usr/bin/psql', join(testBinDir(), 'psql')]) if (existsSync(candidate)) return candidate;
  return 'psql';
}
