/**
 * The PostgreSQL servers this host runs, for the wizard when nothing answers
 * on the default socket (issue 13, defect 14): sockets `.s.PGSQL.<port>` in
 * the usual folders, and Debian's `pg_lsclusters` where postgresql-common is
 * installed (which also knows the stopped ones). The parsers are pure; the
 * scan only reads folders and runs pg_lsclusters. Changes nothing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { userNameOf } from '../files/fileErrors.js';

/** One line of pg_lsclusters: Ver Cluster Port Status Owner Data directory (Log file). */
export interface LsCluster {
  version: string;
  cluster: string;
  port: number | undefined;
  /** online, down, online,recovery … as pg_lsclusters prints it. */
  status: string;
  owner: string | undefined;
  dataDirectory: string | undefined;
  /** Only in --json output. */
  socketDir?: string;
}

export interface LocalServer {
  port: number;
  /** Where its socket is; undefined when pg_lsclusters knows it but no socket was found (stopped, or a folder not scanned). */
  socketDir?: string;
  /** The data directory, from pg_lsclusters or the socket's lock file. */
  dataDirectory?: string;
  version?: string;
  cluster?: string;
  status?: string;
  owner?: string;
}

/** The folders libpq builds use, Debian's first; PGHOST too when it names a folder. */
export function socketFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const folders = ['/var/run/postgresql', '/run/postgresql', '/tmp'];
  for (const host of (env.PGHOST ?? '').split(',')) if (host.startsWith('/')) folders.push(host);
  return folders;
}

/** pg_lsclusters' text output: columns found from the header (a data directory may hold spaces), else split on blanks. */
export function parseLsClustersText(text: string): LsCluster[] {
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const header = /^Ver\s+Cluster\s+Port\s+Status\s+Owner\s+Data directory(\s+Log file)?\s*$/.test(lines[0]) ? lines[0] : undefined;
  const rows = header ? lines.slice(1) : lines;
  const starts = header ? ['Ver', 'Cluster', 'Port', 'Status', 'Owner', 'Data directory', 'Log file'].map((name) => header.indexOf(name)) : undefined;
  return rows.map((row) => {
    let fields: string[];
    if (starts) {
      // Each column is padded to the widest value, so every row starts its columns where the header does.
      fields = starts.map((start, i) => (start < 0 ? '' : row.slice(start, i + 1 < starts.length && starts[i + 1] >= 0 ? starts[i + 1] : undefined).trim()));
    } else {
      const words = row.trim().split(/\s+/);
      fields = [...words.slice(0, 6), words.slice(6).join(' ')];
    }
    const [version, cluster, port, status, owner, dataDirectory] = fields;
    return { version, cluster, port: portOf(port), status, owner: known(owner), dataDirectory: known(dataDirectory) };
  });
}

/** pg_lsclusters --json (postgresql-common 230+, needs libjson-perl): cluster_info for each cluster. */
export function parseLsClustersJson(text: string, nameOfUid: (uid: number) => string | undefined = userNameOf): LsCluster[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('pg_lsclusters --json did not print a list');
  return parsed.map((item: Record<string, unknown>) => {
    // Built as pg_lsclusters builds its Status column.
    const status = [item.running ? 'online' : 'down', item.recovery ? 'recovery' : '', typeof item.supervisor === 'string' ? item.supervisor : '', item.binaries_missing ? 'binaries_missing' : ''].filter(Boolean).join(',');
    return {
      version: String(item.version ?? ''),
      cluster: String(item.cluster ?? ''),
      port: portOf(item.port === undefined ? undefined : String(item.port)),
      status,
      owner: typeof item.owneruid === 'number' ? nameOfUid(item.owneruid) ?? `uid ${item.owneruid}` : undefined,
      dataDirectory: typeof item.pgdata === 'string' ? item.pgdata : undefined,
      socketDir: typeof item.socketdir === 'string' ? item.socketdir : undefined,
    };
  });
}

/** Ports with a server socket in `folder` (the lock files beside them are skipped). */
export function socketsIn(folder: string): number[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const name of names) {
    const match = /^\.s\.PGSQL\.(\d{1,5})$/.exec(name);
    if (!match) continue;
    try {
      if (statSync(join(folder, name)).isSocket()) ports.push(Number(match[1]));
    } catch {}
  }
  return ports.sort((a, b) => a - b);
}

/**
 * Every local server seen: sockets merged with pg_lsclusters by port (and
 * socket folder when pg_lsclusters says it). Sorted by port; reachable ones
 * (with a socket) first.
 */
export function findLocalServers(env: NodeJS.ProcessEnv = process.env, clusters: LsCluster[] = listClusters()): LocalServer[] {
  const folders = unique([...socketFolders(env), ...clusters.flatMap((c) => (c.socketDir ? [c.socketDir] : []))]);
  const servers: LocalServer[] = [];
  for (const folder of folders) {
    for (const port of socketsIn(folder)) servers.push({ port, socketDir: folder, dataDirectory: dataDirectoryFromLock(folder, port) });
  }
  for (const cluster of clusters) {
    if (cluster.port === undefined) continue;
    const same = servers.find((s) => s.port === cluster.port && (!cluster.socketDir || samePath(s.socketDir, cluster.socketDir)) && (!s.cluster));
    const facts = { version: cluster.version, cluster: cluster.cluster, status: cluster.status, owner: cluster.owner, dataDirectory: cluster.dataDirectory ?? same?.dataDirectory };
    if (same && (!same.dataDirectory || !cluster.dataDirectory || same.dataDirectory === cluster.dataDirectory)) Object.assign(same, facts);
    else servers.push({ port: cluster.port, ...facts });
  }
  return servers.sort((a, b) => Number(!a.socketDir) - Number(!b.socketDir) || a.port - b.port);
}

/** One line a DBA recognises: "PostgreSQL 15 main, port 5433, online, owner postgres, /var/lib/… (socket /var/run/postgresql/.s.PGSQL.5433)". */
export function describeLocalServer(server: LocalServer): string {
  const name = server.version ? `PostgreSQL ${server.version}${server.cluster ? ` ${server.cluster}` : ''}, port ${server.port}` : `port ${server.port}`;
  const parts = [name, server.status, server.owner && `owner ${server.owner}`, server.dataDirectory].filter(Boolean);
  return `${parts.join(', ')}${server.socketDir ? ` (socket ${join(server.socketDir, `.s.PGSQL.${server.port}`)})` : ''}`;
}

/** How to reach it with psql-style flags. */
export function flagsFor(server: LocalServer): string {
  return server.socketDir ? `-h ${server.socketDir} -p ${server.port}` : `-p ${server.port}`;
}

/** pg_lsclusters output, or none where postgresql-common is missing or fails. */
export function listClusters(): LsCluster[] {
  const run = (args: string[]) => spawnSync('pg_lsclusters', args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const json = run(['--json']);
  if (json.status === 0) {
    try {
      return parseLsClustersJson(json.stdout);
    } catch {}
  }
  if (json.error && (json.error as NodeJS.ErrnoException).code === 'ENOENT') return [];
  const text = run([]);
  return text.status === 0 ? parseLsClustersText(text.stdout) : [];
}

/** The socket's lock file names the data directory on its second line (miscinit.c, CreateLockFile); readable by its owner and root. */
function dataDirectoryFromLock(folder: string, port: number): string | undefined {
  try {
    return known(readFileSync(join(folder, `.s.PGSQL.${port}.lock`), 'utf8').split('\n')[1]?.trim());
  } catch {
    return undefined;
  }
}

function portOf(text: string | undefined): number | undefined {
  const port = Number(text);
  return text && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

function known(value: string | undefined): string | undefined {
  return value && value !== '<unknown>' ? value : undefined;
}

function samePath(a: string | undefined, b: string): boolean {
  return a !== undefined && realOrSelf(a) === realOrSelf(b);
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Folders once each: /var/run is a link to /run on most systems. */
function unique(folders: string[]): string[] {
  const seen = new Set<string>();
  return folders.filter((folder) => {
    const real = realOrSelf(folder);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}
