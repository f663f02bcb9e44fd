/**
 * A real streaming standby of a test cluster: pg_basebackup -R (from the
 * cluster's binaries, else the system's of the same major), started on a
 * port and socket folder of its own, as the server's OS user. Returns the
 * reason instead when no pg_basebackup exists for that major (the embedded
 * packages ship only the server). Stopped and removed by stop(), also when a
 * test fails (the folder is a tempDir).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { cleanEnv, freePort, type Cluster } from './cluster.js';
import { removeTempDir, tempDir } from './tempDir.js';

export interface Standby {
  root: string;
  dataDir: string;
  port: number;
  logFile: string;
  /** Environment for pgssl/psql connecting to the standby over its socket as postgres. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The last lines of the standby's log, for assertion messages. */
  log(): string;
  stop(): void;
}

/** `conninfo`: primary_conninfo to start with, replacing the one pg_basebackup -R wrote. */
export async function startStandby(primary: Cluster, options: { conninfo: string }): Promise<Standby | string> {
  const basebackup = [join(primary.binDir, 'pg_basebackup'), `/usr/lib/postgresql/${primary.major}/bin/pg_basebackup`].find(existsSync);
  if (!basebackup) return `no pg_basebackup for PostgreSQL ${primary.major} here (the embedded packages ship only the server)`;
  const root = tempDir('pgssl-standby');
  const dataDir = join(root, 'data');
  const logFile = join(root, 'standby.log');
  if (primary.osUser.switchTo) chownSync(root, primary.osUser.uid, primary.osUser.gid);
  // The standby's libpq reads ~/.postgresql: a HOME of its own, as a real server has.
  const asServer = { env: cleanEnv({ HOME: root }), ...(primary.osUser.switchTo ? { uid: primary.osUser.uid, gid: primary.osUser.gid } : {}) };
  const port = await freePort();
  const pgCtl = (...args: string[]) => spawnSync(join(primary.binDir, 'pg_ctl'), ['-D', dataDir, ...args], { ...asServer, encoding: 'utf8' });
  const backup = spawnSync(basebackup, ['-D', dataDir, '-R', '-X', 'stream', '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres'], { ...asServer, encoding: 'utf8' });
  if (backup.status !== 0) {
    removeTempDir(root);
    throw new Error(`pg_basebackup failed: ${backup.stderr}`);
  }
  const autoConf = join(dataDir, 'postgresql.auto.conf');
  const text = readFileSync(autoConf, 'utf8').replace(/^primary_conninfo = .*$/m, `primary_conninfo = '${options.conninfo.replace(/'/g, "''")}'`);
  writeFileSync(autoConf, text);
  const started = pgCtl('start', '-w', '-l', logFile, '-o', `-p ${port} -c listen_addresses='' -c unix_socket_directories='${root}'`);
  const standby: Standby = {
    root,
    dataDir,
    port,
    logFile,
    env: (extra = {}) => cleanEnv({ PGHOST: root, PGPORT: String(port), PGUSER: 'postgres', PGDATABASE: 'postgres', ...extra }),
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      const client = new pg.Client({ host: root, port, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : '(no log)'),
    stop() {
      pgCtl('stop', '-m', 'immediate', '-w');
      removeTempDir(root);
    },
  };
  if (started.status !== 0) {
    const log = standby.log();
    standby.stop();
    throw new Error(`the standby did not start: ${started.stderr}\n${log}`);
  }
  return standby;
}

/** Until `check` holds (polling every 100 ms, up to `timeoutMs`); whether it did. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
