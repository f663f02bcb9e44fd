/**
 * Throwaway PostgreSQL clusters (pgssl demo and the tests): initdb in a temp
 * dir, a free port, a socket directory of its own, listening on 127.0.0.1,
 * stopped and removed at the end (and at process exit as a last resort). As
 * root the server runs as the postgres OS user, as it must.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binariesReachableBy, findServerBinaries, serverMajor } from './binaries.js';
import { serverOsUser, type ServerOsUser } from './osUser.js';

export interface ThrowawayOptions {
  /**
   * trust (default); scram: trust on the socket, scram-sha-256 on TCP with `password`;
   * peer-scram: `initdb --auth-local=peer --auth-host=scram-sha-256` and no password at all,
   * the stock layout (as root, only the postgres OS user then gets in over the socket).
   */
  auth?: 'trust' | 'scram' | 'peer-scram';
  password?: string;
  /** Config files in a separate etc/ folder, like Debian's /etc/postgresql/N/main. */
  debianLayout?: boolean;
  /** Extra postgresql.conf lines (name → raw value, quoted as needed). */
  settings?: Record<string, string>;
  /** Replace pg_hba.conf before the first start. */
  hba?: string;
  binDir?: string;
  listenAddresses?: string;
  /** Prefix of the temp folder name. */
  label?: string;
}

export interface ThrowawayCluster {
  dir: string;
  dataDir: string;
  configDir: string;
  confFile: string;
  hbaFile: string;
  logFile: string;
  socketDir: string;
  port: number;
  binDir: string;
  major: number;
  osUser: ServerOsUser;
  /** Runs a server binary (pg_ctl, pg_basebackup…) as the server's OS user. */
  runAsServer(program: string, args: string[]): string;
  /** Writes a file owned by the server's OS user. */
  writeOwned(path: string, content: string | Buffer, mode?: number): void;
  restart(): void;
  stop(): void;
}

const live = new Set<ThrowawayCluster>();
process.on('exit', () => {
  for (const cluster of live) cluster.stop();
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The environment without the caller's PG* variables, which must not leak into a throwaway server. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG') && key !== 'NO_COLOR' && key !== 'FORCE_COLOR') env[key] = value;
  return { ...env, LC_ALL: 'C', ...extra };
}

export async function startThrowawayCluster(options: ThrowawayOptions = {}): Promise<ThrowawayCluster> {
  const found = findServerBinaries(options.binDir);
  if (!found) throw new Error('no PostgreSQL server binaries found: install the postgresql package (or run npm ci in a pgssl checkout for the embedded ones)');
  const osUser = serverOsUser();
  const binDir = binariesReachableBy(found, osUser.switchTo);
  const major = serverMajor(binDir);
  const dir = mkdtempSync(join(tmpdir(), `${options.label ?? 'pgssl-test'}-`));
  try {
    return await startIn(dir, options, osUser, binDir, major);
  } catch (error) {
    // initdb, a port or the start failed: nothing may stay behind in the temp folder.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string, options: ThrowawayOptions, osUser: ServerOsUser, binDir: string, major: number): Promise<ThrowawayCluster> {
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  const configDir = options.debianLayout ? join(dir, 'etc') : dataDir;
  mkdirSync(socketDir);
  if (options.debianLayout) mkdirSync(configDir);
  chmodSync(dir, 0o755);
  if (osUser.switchTo) for (const path of [dir, socketDir, ...(options.debianLayout ? [configDir] : [])]) chownSync(path, osUser.uid, osUser.gid);

  const asServer: SpawnSyncOptions = {
    // The server's own HOME, as a real one has: libpq inside it (walreceiver) reads ~/.postgresql.
    env: cleanEnv({ HOME: dir }),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(osUser.switchTo ? { uid: osUser.uid, gid: osUser.gid } : {}),
    cwd: dir,
  };
  const runAsServer = (program: string, args: string[]) => {
    const result = spawnSync(join(binDir, program), args, asServer);
    if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${result.stderr?.toString() || result.error?.message}`);
    return result.stdout?.toString() ?? '';
  };

  const initArgs = ['-D', dataDir, '-U', 'postgres', '--no-sync', '--locale=C', '-E', 'UTF8', `--auth-local=${options.auth === 'peer-scram' ? 'peer' : 'trust'}`];
  if (options.auth === 'scram') {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${options.password ?? 'secret'}\n`, { mode: 0o600 });
    if (osUser.switchTo) chownSync(pwfile, osUser.uid, osUser.gid);
    initArgs.push('--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
    try {
      runAsServer('initdb', initArgs);
    } finally {
      rmSync(pwfile, { force: true });
    }
  } else if (options.auth === 'peer-scram') {
    initArgs.push('--auth-host=scram-sha-256');
    runAsServer('initdb', initArgs);
  } else {
    initArgs.push('--auth-host=trust');
    runAsServer('initdb', initArgs);
  }

  if (options.debianLayout) {
    for (const name of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) renameSync(join(dataDir, name), join(configDir, name));
  }
  const port = await freePort();
  const confFile = join(configDir, 'postgresql.conf');
  const hbaFile = join(configDir, 'pg_hba.conf');
  const lines = [
    '',
    '# pgssl throwaway cluster',
    ...(options.debianLayout ? [`data_directory = '${dataDir}'`, `hba_file = '${hbaFile}'`, `ident_file = '${join(configDir, 'pg_ident.conf')}'`] : []),
    `port = ${port}`,
    `listen_addresses = '${options.listenAddresses ?? '127.0.0.1'}'`,
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    'max_connections = 30',
    'shared_buffers = 16MB',
    ...Object.entries(options.settings ?? {}).map(([name, value]) => `${name} = ${value}`),
  ];
  appendFileSync(confFile, lines.join('\n') + '\n');
  if (options.hba !== undefined) writeFileSync(hbaFile, options.hba);
  if (osUser.switchTo) for (const file of [confFile, hbaFile]) chownSync(file, osUser.uid, osUser.gid);

  const logFile = join(dir, 'server.log');
  const pgCtl = (...args: string[]) => runAsServer('pg_ctl', ['-D', configDir, '-l', logFile, ...args]);
  try {
    pgCtl('start', '-w', '-t', '60');
  } catch (error) {
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8');
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\nserver log:\n${log}`);
  }

  let stopped = false;
  const cluster: ThrowawayCluster = {
    dir,
    dataDir,
    configDir,
    confFile,
    hbaFile,
    logFile,
    socketDir,
    port,
    binDir,
    major,
    osUser,
    runAsServer,
    writeOwned(path, content, mode = 0o600) {
      writeFileSync(path, content, { mode });
      chmodSync(path, mode);
      if (osUser.switchTo) chownSync(path, osUser.uid, osUser.gid);
    },
    restart() {
      pgCtl('restart', '-w', '-t', '60', '-m', 'fast');
    },
    stop() {
      if (stopped) return;
      stopped = true;
      live.delete(cluster);
      spawnSync(join(binDir, 'pg_ctl'), ['-D', configDir, 'stop', '-m', 'immediate', '-w'], asServer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  return cluster;
}
