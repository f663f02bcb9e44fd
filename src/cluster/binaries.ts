/**
 * Which PostgreSQL server binaries to run a throwaway cluster with: an explicit
 * folder, else the system's newest (Debian layout, or pg_config on PATH), else
 * the newest embedded major installed from npm (a development checkout).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
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

/**
 * The postgres OS user must be able to reach the binaries. A checkout under a
 * private folder (e.g. /root) hides node_modules from it: then run from a
 * world-readable copy of the package's native tree in the temp folder.
 */
export function binariesReachableBy(binDir: string, switchingUser: boolean): string {
  if (!switchingUser || everyAncestorTraversable(binDir)) return binDir;
  const native = dirname(binDir);
  const copy = join(tmpdir(), `pgssl-pgbin-${createHash('sha256').update(native).digest('hex').slice(0, 12)}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    makeWorldReadable(staging);
    try {
      renameSync(staging, copy);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process made it first
    }
  }
  return join(copy, 'bin');
}

function everyAncestorTraversable(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

function makeWorldReadable(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chmodSync(path, stat.mode | (stat.isDirectory() || stat.mode & 0o100 ? 0o055 : 0o044));
  if (stat.isDirectory()) for (const name of readdirSync(path)) makeWorldReadable(join(path, name));
}
