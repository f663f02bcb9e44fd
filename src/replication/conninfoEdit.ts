/**
 * primary_conninfo with TLS verified: the same parameters (password,
 * passfile, application_name, keepalives… unchanged in meaning) plus
 * sslmode=verify-full and sslrootcert. Pure. A URI is written back as
 * keyword=value pairs, which libpq reads the same.
 */
import { parseConninfo, type ConninfoParams } from '../server/conninfo.js';

export function withVerifiedTls(conninfo: string, rootCert: string): string {
  const params: ConninfoParams = { ...parseConninfo(conninfo) };
  params.sslmode = 'verify-full';
  params.sslrootcert = rootCert;
  return formatConninfo(params);
}

/** keyword=value pairs as libpq reads them: values quoted when they hold spaces, quotes or backslashes (or are empty). */
export function formatConninfo(params: ConninfoParams): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${/^[^\s'\\]+$/.test(value) ? value : `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`}`)
    .join(' ');
}

/** primary_conninfo takes effect on reload from PostgreSQL 13; on 12 only when the server starts (release notes 13, E.x "primary_conninfo can be changed by reload"). */
export function conninfoChangeTakesEffect(major: number): 'reload' | 'restart' {
  return major >= 13 ? 'reload' : 'restart';
}
