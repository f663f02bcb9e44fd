/**
 * Which PostgreSQL server binaries to run a throwaway cluster with: an explicit
 * folder, else the system's newest (Debian layout, or pg_config on PATH), else
 * the newest embedded major installed from npm (a development checkout).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export function embeddedBinDir(major: number): string | undefined {
  try {
    return join(dirname(require.resolve(`pg${major}/package.json`)), 'native', 'bin');
  } catch {
    return undefined;
  }
}

export function findServerBinaries(explicit?: string): string | undefined {
  if (explicit) return explicit;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian).filter((d) => existsSync(join(debian, d, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    if (majors.length > 0) return join(debian, majors[0], 'bin');
  }
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (existsSync(join(bindir, 'initdb'))) return bindir;
  } catch {}
  for (const major of [18, 17, 16, 15, 14, 13, 12]) {
    const dir = embeddedBinDir(major);
    if (dir && existsSync(join(dir, 'postgres'))) return dir;
  }
  return undefined;
}

export function serverMajor(binDir: string): number {
  const out = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const match = /(\d+)(?:\.\d+)?/.exec(out.replace(/^[^\d]*/, ''));
  if (!match) throw new Error(`cannot read the version from "${out}"`);
  return Number(match[1]);
}
