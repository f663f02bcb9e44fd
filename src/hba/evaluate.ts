/**
 * First-match evaluation of pg_hba.conf rules, as PostgreSQL's check_hba():
 * the first rule whose connection type, address, database and user all match
 * decides; no match means rejection. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { expandIPv6, isLoopbackAddress } from './addresses.js';
import type { HbaRule, HbaToken } from './model.js';

export interface ConnectionAttempt {
  /** Unix-domain socket rather than TCP. */
  local: boolean;
  ssl: boolean;
  gssEncrypted?: boolean;
  database: string;
  user: string;
  /** Roles the user belongs to, directly or indirectly (for +group and samerole). */
  memberOf?: string[];
  /** Client IP for TCP. */
  address?: string;
  /** Client host name when known (PostgreSQL resolves it for host-name rules). */
  hostname?: string;
  /** Physical replication walsender: only the `replication` keyword matches its database. */
  physicalReplication?: boolean;
  /** The server's own addresses with their netmasks, for samehost/samenet. */
  serverInterfaces?: { address: string; netmask: string }[];
}

export interface Evaluation {
  rule?: HbaRule;
  /** allow: a rule with a method other than reject; reject: a reject rule or no match. */
  verdict: 'allow' | 'reject';
  /** Rules skipped because their match depends on something unknown (host names, samenet). */
  uncertain: HbaRule[];
}

export function evaluateHba(rules: HbaRule[], attempt: ConnectionAttempt, options: { regularExpressions: boolean }): Evaluation {
  const uncertain: HbaRule[] = [];
  for (const rule of rules) {
    if (!typeMatches(rule, attempt)) continue;
    if (!attempt.local) {
      const addressMatch = addressMatches(rule, attempt);
      if (addressMatch === 'unknown') {
        uncertain.push(rule);
        continue;
      }
      if (!addressMatch) continue;
    }
    if (!databaseMatches(rule.databases, attempt, options)) continue;
    if (!userMatches(rule.users, attempt, options)) continue;
    return { rule, verdict: rule.method === 'reject' ? 'reject' : 'allow', uncertain };
  }
  return { verdict: 'reject', uncertain };
}

function typeMatches(rule: HbaRule, attempt: ConnectionAttempt): boolean {
  if (rule.type === 'local') return attempt.local;
  if (attempt.local) return false;
  switch (rule.type) {
    case 'hostssl':
      return attempt.ssl;
    case 'hostnossl':
      return !attempt.ssl;
    case 'hostgssenc':
      return Boolean(attempt.gssEncrypted);
    case 'hostnogssenc':
      return !attempt.gssEncrypted;
    default:
      return true;
  }
}

function addressMatches(rule: HbaRule, attempt: ConnectionAttempt): boolean | 'unknown' {
  const address = rule.address!;
  const client = attempt.address;
  switch (address.kind) {
    case 'all':
      return true;
    case 'hostname': {
      if (!attempt.hostname) return 'unknown';
      const pattern = address.hostname.toLowerCase();
      const name = attempt.hostname.toLowerCase();
      return pattern.startsWith('.') ? name.endsWith(pattern) : name === pattern;
    }
    case 'samehost':
    case 'samenet': {
      if (!client) return false;
      if (!attempt.serverInterfaces) return address.kind === 'samehost' && isLoopbackAddress(client) ? true : 'unknown';
      return attempt.serverInterfaces.some((iface) =>
        address.kind === 'samehost' ? sameIp(client, iface.address) : inNetwork(client, iface.address, maskBits(iface.netmask)),
      );
    }
    case 'ip':
      if (!client) return false;
      return inNetwork(client, address.ip, address.netmask ? maskBits(address.netmask) : prefixBits(address.family, address.prefix));
  }
}

function databaseMatches(tokens: HbaToken[], attempt: ConnectionAttempt, options: { regularExpressions: boolean }): boolean {
  for (const token of tokens) {
    const keyword = token.quoted ? undefined : token.value;
    if (attempt.physicalReplication) {
      if (keyword === 'replication') return true;
      continue;
    }
    if (keyword === 'all') return true;
    if (keyword === 'sameuser') {
      if (attempt.database === attempt.user) return true;
    } else if (keyword === 'samegroup' || keyword === 'samerole') {
      if (isMember(attempt, attempt.database)) return true;
    } else if (keyword === 'replication') {
      continue;
    } else if (options.regularExpressions && token.value.startsWith('/')) {
      if (regexMatches(token.value, attempt.database)) return true;
    } else if (token.value === attempt.database) {
      return true;
    }
  }
  return false;
}

function userMatches(tokens: HbaToken[], attempt: ConnectionAttempt, options: { regularExpressions: boolean }): boolean {
  for (const token of tokens) {
    if (!token.quoted && token.value.startsWith('+')) {
      if (isMember(attempt, token.value.slice(1))) return true;
    } else if (!token.quoted && token.value === 'all') {
      return true;
    } else if (options.regularExpressions && token.value.startsWith('/')) {
      if (regexMatches(token.value, attempt.user)) return true;
    } else if (token.value === attempt.user) {
      return true;
    }
  }
  return false;
}

/** A role is a member of itself (is_member_of_role_nosuper). */
function isMember(attempt: ConnectionAttempt, role: string): boolean {
  return attempt.user === role || (attempt.memberOf ?? []).includes(role);
}

function regexMatches(token: string, value: string): boolean {
  try {
    return new RegExp(token.slice(1)).test(value);
  } catch {
    return false;
  }
}

function ipBytes(ip: string): number[] | undefined {
  if (isIPv4(ip)) return ip.split('.').map(Number);
  if (isIPv6(ip)) return expandIPv6(ip).split(':').flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  return undefined;
}

function prefixBits(family: 4 | 6, prefix: number): number[] {
  const bytes = family === 4 ? 4 : 16;
  return Array.from({ length: bytes }, (_, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return (0xff << (8 - bits)) & 0xff;
  });
}

function maskBits(mask: string): number[] {
  return ipBytes(mask) ?? [];
}

/** Address family must match, then every masked bit (pg_range_sockaddr). */
function inNetwork(client: string, network: string, mask: number[]): boolean {
  const a = ipBytes(client);
  const b = ipBytes(network);
  if (!a || !b || a.length !== b.length || mask.length !== a.length) return false;
  return a.every((byte, i) => (byte & mask[i]) === (b[i] & mask[i]));
}

function sameIp(a: string, b: string): boolean {
  const x = ipBytes(a);
  const y = ipBytes(b);
  return Boolean(x && y && x.length === y.length && x.every((v, i) => v === y[i]));
}

/** Whether a TCP client at `ip` falls in the rule's address (host names and samenet: 'unknown'). */
export function ruleCoversAddress(rule: HbaRule, ip: string): boolean | 'unknown' {
  if (rule.type === 'local') return false;
  return addressMatches(rule, { local: false, ssl: false, database: '', user: '', address: ip });
}
