/**
 * Throwaway PostgreSQL clusters for tests: initdb in a temp dir, a free port,
 * a socket directory of its own, listening on 127.0.0.1, stopped and removed
 * at the end even when the test fails (and at process exit as a last resort).
 */
import { execFileSync, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { serverMajor, testBinDir } from './pgbin.js';
import { serverOsUser } from './osUser.js';

export interface ClusterOptions {
  /** trust (default) or scram-sha-256 for TCP with this superuser password. */
  auth?: 'trust' | 'scram';
  password?: string;
  /** Config files in a separate etc/ folder, like Debian's /etc/postgresql/N/main. */
  debianLayout?: boolean;
  /** Extra postgresql.conf lines (name → raw value, quoted as needed). */
  settings?: Record<string, string>;
  /** Replace pg_hba.conf before the first start. */
  hba?: string;
  binDir?: string;
  listenAddresses?: string;
}

export interface Cluster {
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
  osUser: ReturnType<typeof serverOsUser>;
  /** Environment for a client (psql, pgssl) connecting over the socket as postgres. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], conn?: Partial<pg.ClientConfig>): Promise<T[]>;
  /** Writes a file owned by the server's OS user. */
  writeOwned(path: string, content: string | Buffer, mode?: number): void;
  reload(): Promise<void>;
  restart(): void;
  stop(): void;
}

const live = new Set<Cluster>();
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

/** A clean environment: the developer's PG* variables must not leak into tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG') && key !== 'NO_COLOR' && key !== 'FORCE_COLOR') env[key] = value;
  return { ...env, LC_ALL: 'C', ...extra };
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const binDir = options.binDir ?? testBinDir();
  const major = serverMajor(binDir);
  const osUser = serverOsUser();
  const dir = mkdtempSync(join(tmpdir(), 'pgssl-test-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  const configDir = options.debianLayout ? join(dir, 'etc') : dataDir;
  mkdirSync(socketDir);
  if (options.debianLayout) mkdirSync(configDir);
  chmodSync(dir, 0o755);
  if (osUser.switchTo) for (const path of [dir, socketDir, ...(options.debianLayout ? [configDir] : [])]) chownSync(path, osUser.uid, osUser.gid);

  const asServer: SpawnSyncOptions = {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(osUser.switchTo ? { uid: osUser.uid, gid: osUser.gid } : {}),
    cwd: dir,
  };
  const run = (program: string, args: string[]) => {
    const result = spawnSync(join(binDir, program), args, asServer);
    if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${result.stderr?.toString() || result.error?.message}`);
    return result.stdout?.toString() ?? '';
  };

  const initArgs = ['-D', dataDir, '-U', 'postgres', '--no-sync', '--locale=C', '-E', 'UTF8', '--auth-local=trust'];
  let pwfile: string | undefined;
  if (options.auth === 'scram') {
    pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${options.password ?? 'secret'}\n`, { mode: 0o600 });
    if (osUser.switchTo) chownSync(pwfile, osUser.uid, osUser.gid);
    initArgs.push('--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  } else {
    initArgs.push('--auth-host=trust');
  }
  run('initdb', initArgs);
  if (pwfile) rmSync(pwfile);

  if (options.debianLayout) {
    for (const name of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) renameSync(join(dataDir, name), join(configDir, name));
  }
  const port = await freePort();
  const confFile = join(configDir, 'postgresql.conf');
  const hbaFile = join(configDir, 'pg_hba.conf');
  const lines = [
    '',
    '# pgssl test harness',
    ...(options.debianLayout
      ? [`data_directory = '${dataDir}'`, `hba_file = '${hbaFile}'`, `ident_file = '${join(configDir, 'pg_ident.conf')}'`]
      : []),
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
  const pgCtl = (...args: string[]) => run('pg_ctl', ['-D', configDir, '-l', logFile, ...args]);
  const start = () => {
    try {
      pgCtl('start', '-w', '-t', '60');
    } catch (error) {
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8');
      } catch {}
      throw new Error(`${(error as Error).message}\nserver log:\n${log}`);
    }
  };
  start();

  let stopped = false;
  const cluster: Cluster = {
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
    env: (extra = {}) => cleanEnv({ PGHOST: socketDir, PGPORT: String(port), PGUSER: 'postgres', PGDATABASE: 'postgres', ...extra }),
    async query(sql, params, conn = {}) {
      const client = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres', ...conn });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    writeOwned(path, content, mode = 0o600) {
      writeFileSync(path, content, { mode });
      chmodSync(path, mode);
      if (osUser.switchTo) chownSync(path, osUser.uid, osUser.gid);
    },
    async reload() {
      await cluster.query('SELECT pg_reload_conf()');
      // Reload is asynchronous: wait until a new backend sees the new load time.
      const before = Date.now();
      while (Date.now() - before < 10_000) {
        const [row] = await cluster.query<{ loaded: Date }>('SELECT pg_conf_load_time() AS loaded');
        if (row.loaded.getTime() >= before - 1000) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('reload did not take effect within 10 s');
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

export async function withCluster<T>(options: ClusterOptions, work: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster(options);
  try {
    return await work(cluster);
  } finally {
    cluster.stop();
  }
}

/** Makes a CA-signed server certificate with openssl, for tests that must not depend on pgssl's own generator. */
export function opensslServerCert(dir: string, options: { days?: number; cn?: string; san?: string } = {}): { cert: string; key: string; ca: string } {
  const ca = join(dir, 'test-ca.crt');
  const caKey = join(dir, 'test-ca.key');
  const key = join(dir, 'test-server.key');
  const csr = join(dir, 'test-server.csr');
  const cert = join(dir, 'test-server.crt');
  const ext = join(dir, 'test-server.ext');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '30', '-subj', '/CN=pgssl test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${options.cn ?? 'localhost'}`);
  writeFileSync(ext, `subjectAltName = ${options.san ?? 'DNS:localhost,IP:127.0.0.1'}\nextendedKeyUsage = serverAuth\n`);
  openssl('x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', String(options.days ?? 30), '-extfile', ext);
  return { cert, key, ca };
}
