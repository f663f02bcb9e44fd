/**
 * Where and as whom to connect, resolved the way psql does: a conninfo string
 * or URI given as -d wins, then -h -p -U, then the service file (PGSERVICE),
 * then PG* environment variables, then libpq's defaults. With no host, the
 * socket directories libpq would try. Pure but for reading the service file
 * and checking which sockets exist.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { looksLikeConninfo, parseConninfo, type ConninfoParams } from './conninfo.js';

export const sslModes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof sslModes)[number];

export interface ConnectionFlags {
  host?: string;
  port?: string;
  username?: string;
  dbname?: string;
  /** -W: prompt for a password before connecting. */
  password?: boolean;
  /** -w: never prompt. */
  noPassword?: boolean;
}

export interface ConnectionTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  sslmode: SslMode;
  sslrootcert?: string;
  password?: string;
  passfile: string;
  promptPassword: 'never' | 'when-asked' | 'always';
  /** Socket directories that were looked at when no host was given. */
  socketDirsTried?: string[];
  applicationName: string;
  /** Name to verify the server certificate against when it differs from host (libpq's host vs hostaddr). */
  tlsServerName?: string;
  /** CA certificates to trust, given as PEM instead of a file. */
  sslRootCertPem?: string;
  /** Connect from this local address (pgssl's enforcement proof). */
  localAddress?: string;
  /** SCRAM channel binding as libpq's channel_binding: 'prefer' (the default: used when the server offers it over TLS) or 'disable'. */
  channelBinding?: 'prefer' | 'disable';
}

/** Debian's directory first, then the upstream default, like a libpq built for Debian. */
export const defaultSocketDirs = ['/var/run/postgresql', '/tmp'];

const envNames: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  dbname: 'PGDATABASE',
  password: 'PGPASSWORD',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
};

export function resolveConnectionTarget(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
  socketDirs: string[] = defaultSocketDirs,
): ConnectionTarget {
  const fromDbFlag: ConninfoParams =
    flags.dbname && looksLikeConninfo(flags.dbname) ? parseConninfo(flags.dbname) : {};
  const fromFlags: ConninfoParams = {};
  if (flags.host) fromFlags.host = flags.host;
  if (flags.port) fromFlags.port = flags.port;
  if (flags.username) fromFlags.user = flags.username;
  if (flags.dbname && !looksLikeConninfo(flags.dbname)) fromFlags.dbname = flags.dbname;

  const explicit = { ...fromFlags, ...fromDbFlag };
  const serviceName = explicit.service ?? env.PGSERVICE;
  const fromService = serviceName ? readService(serviceName, env) : {};
  const pick = (key: string): string | undefined =>
    nonEmpty(explicit[key]) ?? nonEmpty(fromService[key]) ?? nonEmpty(env[envNames[key] ?? '']);

  const portText = pick('port') ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`invalid port "${portText}": expected a number from 1 to 65535`);
  }
  const sslmode = (pick('sslmode') ?? 'prefer') as SslMode;
  if (!sslModes.includes(sslmode)) {
    throw new UsageError(`invalid sslmode "${sslmode}": expected one of ${sslModes.join(', ')}`);
  }

  let host = pick('host');
  let socketDirsTried: string[] | undefined;
  if (!host) {
    socketDirsTried = socketDirs;
    host = socketDirs.find((dir) => existsSync(join(dir, `.s.PGSQL.${port}`))) ?? socketDirs[0];
  }
  // A list of hosts (libpq's failover syntax) is out of scope: pgssl works on one server.
  if (host.includes(',')) throw new UsageError(`pgssl connects to one server at a time; got the host list "${host}"`);
  // As root with no user given: the server's OS user's role (usually postgres), the one `sudo -u postgres pgssl`
  // would use; there is no "root" role to default to.
  const user = pick('user') ?? socketOwnerForRoot(host, port)?.name ?? userInfo().username;

  return {
    host,
    port,
    user,
    database: pick('dbname') ?? user,
    sslmode,
    sslrootcert: pick('sslrootcert') ?? defaultRootCert(env),
    password: pick('password'),
    passfile: pick('passfile') ?? join(env.HOME ?? homedir(), '.pgpass'),
    promptPassword: flags.password ? 'always' : flags.noPassword ? 'never' : 'when-asked',
    socketDirsTried,
    applicationName: 'pgssl',
  };
}

/**
 * The OS user who owns the server's socket file, i.e. who runs the server,
 * when pgssl runs as root and it is someone else; undefined otherwise. Root
 * acts as that user over the socket when it logs in as the role of the same
 * name (peer authentication, Debian's default, admits nobody else as
 * postgres): see connect.ts.
 */
export function socketOwnerForRoot(host: string, port: number): { uid: number; name: string } | undefined {
  if (!isSocketHost(host) || process.geteuid?.() !== 0) return undefined;
  let uid: number;
  try {
    uid = statSync(join(host, `.s.PGSQL.${port}`)).uid;
  } catch {
    return undefined; // no socket: the connect fails with its own explanation
  }
  if (uid === 0) return undefined;
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    const name = line?.split(':')[0];
    return name ? { uid, name } : undefined;
  } catch {
    return undefined;
  }
}

export function isSocketHost(host: string): boolean {
  return host.startsWith('/');
}

/** "host:port" or "socket /dir/.s.PGSQL.port", as a DBA would write it. */
export function describeTarget(target: Pick<ConnectionTarget, 'host' | 'port'>): string {
  return isSocketHost(target.host)
    ? `the socket ${join(target.host, `.s.PGSQL.${target.port}`)}`
    : `${target.host}:${target.port}`;
}

function defaultRootCert(env: NodeJS.ProcessEnv): string | undefined {
  const path = join(env.HOME ?? homedir(), '.postgresql', 'root.crt');
  return existsSync(path) ? path : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** pg_service.conf: INI sections of keyword=value (docs, "The Connection Service File"). */
function readService(name: string, env: NodeJS.ProcessEnv): ConninfoParams {
  const files = [
    env.PGSERVICEFILE ?? join(env.HOME ?? homedir(), '.pg_service.conf'),
    join(env.PGSYSCONFDIR ?? '/etc/postgresql-common', 'pg_service.conf'),
  ];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const section = parseServiceFile(text)[name];
    if (section) return section;
  }
  throw new UsageError(`definition of service "${name}" not found in ${files.join(' or ')}`);
}

export function parseServiceFile(text: string): Record<string, ConninfoParams> {
  const sections: Record<string, ConninfoParams> = {};
  let current: ConninfoParams | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]] = {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current && eq > 0) current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return sections;
}
