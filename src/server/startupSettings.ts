/**
 * What a stopped server would start with: `postgres -C name` reads
 * postgresql.conf, its includes and postgresql.auto.conf exactly as the
 * postmaster will, and exits without starting (docs: "postgres", option -C).
 * The offline rollback uses it to check that the configuration in force can
 * start. Changes nothing; postgres refuses root, so as root it runs as the
 * data directory's owner.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError } from '../errors.js';
import { fileSystemError } from '../files/fileErrors.js';

export interface StartupSettingsOptions {
  /** The folder holding postgresql.conf: the data directory, or e.g. /etc/postgresql/15/main on Debian. */
  configDir: string;
  /** The data directory, whose owner runs postgres and whose PG_VERSION picks the binaries; defaults to configDir. */
  dataDir?: string;
  /** Folder of the postgres binary; default: /usr/lib/postgresql/<PG_VERSION>/bin. */
  binDir?: string;
}

/** The value of each setting as `postgres -C` prints it. Throws OperationalError with the server's own message when the configuration cannot be loaded. */
export function startupSettings(names: string[], options: StartupSettingsOptions): Record<string, string> {
  const dataDir = options.dataDir ?? options.configDir;
  const binDir = options.binDir ?? binariesFor(dataDir);
  const postgres = join(binDir, 'postgres');
  let owner: { uid: number; gid: number };
  try {
    const stat = statSync(dataDir);
    owner = { uid: stat.uid, gid: stat.gid };
  } catch (error) {
    throw fileSystemError(error, 'read the data directory', dataDir);
  }
  const asOwner = process.getuid?.() === 0 ? owner : {};
  const values: Record<string, string> = {};
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z_0-9.]*$/.test(name)) throw new OperationalError(`"${name}" is not a setting name`);
    const run = spawnSync(postgres, ['-D', options.configDir, '-C', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      // Messages in English, and no PG* variable of ours steering the server.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      cwd: '/',
      ...asOwner,
    });
    if (run.error) throw fileSystemError(run.error, 'run', postgres);
    if (run.status !== 0) {
      const said = run.stderr.trim().replace(/\s*\n\s*/g, ' ');
      throw new OperationalError(
        `the server would not start with the configuration in ${options.configDir}: ${postgres} -C ${name} says: ${said || `exit code ${run.status}`}. Fix the file it names, then check again (as the data directory's owner: postgres -D ${options.configDir} -C ${name}).`,
      );
    }
    values[name] = run.stdout.replace(/\n$/, '');
  }
  return values;
}

/** Debian's binaries for the data directory's major (PG_VERSION). */
function binariesFor(dataDir: string): string {
  let major: string;
  try {
    major = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
  } catch (error) {
    throw fileSystemError(error, 'read the server version from', join(dataDir, 'PG_VERSION'));
  }
  const dir = `/usr/lib/postgresql/${major}/bin`;
  if (!existsSync(join(dir, 'postgres'))) {
    throw new OperationalError(`the data directory ${dataDir} is for PostgreSQL ${major}, and there is no ${dir}/postgres to read its configuration with. Install the server package for ${major}, or give its binaries' folder.`);
  }
  return dir;
}
