/**
 * Which PostgreSQL binaries the tests use: PGSSL_TEST_PGBIN if set, else the
 * system's (Debian layout), else the newest embedded major from node_modules.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export const repoRoot = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

export function embeddedBinDir(major: number): string {
  return join(repoRoot, 'node_modules', `pg${major}`, 'native', 'bin');
}

export function testBinDir(): string {
  const fromEnv = process.env.PGSSL_TEST_PGBIN;
  if (fromEnv) return fromEnv;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian).filter((d) => existsSync(join(debian, d, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    if (majors.length > 0) return join(debian, majors[0], 'bin');
  }
  for (const major of [18, 17, 16, 15, 14, 13, 12]) if (existsSync(join(embeddedBinDir(major), 'postgres'))) return embeddedBinDir(major);
  throw new Error('no PostgreSQL server binaries found: install postgresql, run npm ci, or set PGSSL_TEST_PGBIN');
}

export function serverMajor(binDir: string): number {
  const out = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const match = /(\d+)(?:\.\d+)?/.exec(out.replace(/^[^\d]*/, ''));
  if (!match) throw new Error(`cannot read the version from "${out}"`);
  return Number(match[1]);
}

/** psql for tests: the system's (it talks to every major 12–18). */
export function psqlPath(): string {
  for (const candidate of ['/usr/bin/psql', join(testBinDir(), 'psql')]) if (existsSync(candidate)) return candidate;
  return 'psql';
}
