/**
 * How a standby's primary_conninfo connects to its primary, judged the way
 * libpq will act on it. Pure: the conninfo and a readability check in, the
 * judgement out. libpq's default sslmode is `prefer`, which (like `allow`
 * and `disable`) falls back to a plain connection without a word; `require`
 * and `verify-ca` encrypt but do not check that the peer is the primary
 * (PostgreSQL docs, "SSL Support", 34.19.1); `verify-full` with a readable
 * root certificate is the only setting that cannot be intercepted.
 */
import { isAbsolute, join } from 'node:path';
import { messageOf } from '../errors.js';
import { parseConninfo, type ConninfoParams } from '../server/conninfo.js';

export type ReplicationSecurity = 'socket' | 'plain-possible' | 'unverified' | 'verified' | 'ca-unreadable' | 'unparsable' | 'none';

export interface PrimaryConninfoView {
  security: ReplicationSecurity;
  /** As written (missing: undefined, libpq then uses `prefer`). */
  sslmode?: string;
  sslrootcert?: string;
  /** The file libpq will read for sslrootcert (relative paths are taken from the data directory, the walreceiver's working directory). */
  rootCertPath?: string;
  host?: string;
  port?: string;
  applicationName?: string;
  /** Why the conninfo could not be read. */
  problem?: string;
}

export interface ConninfoContext {
  dataDirectory: string;
  /** Home of the server's OS user: libpq's default sslrootcert is ~/.postgresql/root.crt. */
  serverHome?: string;
  readable(path: string): boolean;
}

const fallsBackToPlain = new Set(['disable', 'allow', 'prefer']);

export function judgePrimaryConninfo(conninfo: string | null | undefined, context: ConninfoContext): PrimaryConninfoView {
  if (!conninfo || conninfo.trim() === '') return { security: 'none' };
  let params: ConninfoParams;
  try {
    params = parseConninfo(conninfo);
  } catch (error) {
    return { security: 'unparsable', problem: messageOf(error) };
  }
  const base = { sslmode: params.sslmode, sslrootcert: params.sslrootcert, host: params.host ?? params.hostaddr, port: params.port, applicationName: params.application_name };
  // A Unix-domain socket (host=/dir or @abstract) never uses TLS, and needs none: it does not leave the host.
  if (!params.hostaddr && base.host !== undefined && /^[/@]/.test(base.host)) return { ...base, security: 'socket' };
  const mode = params.sslmode ?? 'prefer';
  if (fallsBackToPlain.has(mode)) return { ...base, security: 'plain-possible' };
  if (mode === 'require' || mode === 'verify-ca') {
    // libpq: require with a root certificate file present behaves as verify-ca; neither checks the host name.
    return { ...base, security: 'unverified' };
  }
  if (mode !== 'verify-full') return { ...base, security: 'unparsable', problem: `sslmode "${mode}" is not one libpq knows` };
  // sslrootcert=system (PostgreSQL 16+ libpq): the operating system's trusted roots.
  if (params.sslrootcert === 'system') return { ...base, security: 'verified', rootCertPath: 'system' };
  const rootCertPath = rootCertFile(params.sslrootcert, context);
  if (!rootCertPath || !context.readable(rootCertPath)) return { ...base, rootCertPath, security: 'ca-unreadable' };
  return { ...base, rootCertPath, security: 'verified' };
}

function rootCertFile(sslrootcert: string | undefined, context: ConninfoContext): string | undefined {
  if (sslrootcert) return isAbsolute(sslrootcert) ? sslrootcert : join(context.dataDirectory, sslrootcert);
  return context.serverHome ? join(context.serverHome, '.postgresql', 'root.crt') : undefined;
}
