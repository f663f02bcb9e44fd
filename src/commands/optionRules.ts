/**
 * What each command-line option accepts, checked once for the whole command
 * line before anything runs (no connection, no file written), so that every
 * problem is reported together in one message. Pure: cli.cts hands in the
 * values commander parsed and prints what comes back.
 *
 * A rule belongs to a flag (`--days`) and applies to every command that has
 * that flag; `commandRules` overrides it for one command (e.g. a CA's
 * lifetime may need another range than a server certificate's).
 */
import { isIP } from 'node:net';
import { supportedMajors } from '../hba/syntax.js';
import { parseDuration } from '../readiness/duration.js';
import { looksLikeConninfo, parseConninfo } from '../server/conninfo.js';

/** undefined when the value is acceptable, else what is expected (a phrase). */
export type OptionCheck = (value: string) => string | undefined;

/** `what` names the number the way the message says it: "a whole number of days". */
function wholeNumber(min: number, max: number, what: string): OptionCheck {
  return (value) => {
    const expected = `expected ${what} from ${min} to ${max}`;
    if (!/^\d+$/.test(value)) return expected;
    const n = Number(value);
    return n < min || n > max ? expected : undefined;
  };
}

function oneOf(choices: readonly string[]): OptionCheck {
  return (value) => (choices.includes(value) ? undefined : `expected one of ${choices.join(', ')}`);
}

// RFC 1123 §2.1: letters, digits and hyphens, not starting or ending with a
// hyphen, at most 63 bytes; the top-level label is never all-numeric (so
// 300.1.1.1 is neither a name nor an address).
const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // A wildcard is a whole leftmost label (RFC 6125 §6.4.3), and never the only one:
  // `*.example.com`, not `*`, `db*.example.com` or `a.*.com`.
  if (labels[0] === '*') {
    if (labels.length < 2) return false;
    labels.shift();
  }
  if (!labels.every((label) => dnsLabel.test(label))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]);
}

/** An address a certificate can carry: no IPv6 zone (fe80::1%eth0 is local to one host). */
export function isCertificateIp(text: string): boolean {
  return isIP(text) !== 0 && !text.includes('%');
}

/** `--san`: a DNS name or an IP address, optionally written `DNS:name` / `IP:address` as in openssl. */
export const subjectAltName: OptionCheck = (value) => {
  if (isIP(value) && value.includes('%')) return 'an IPv6 zone (%…) names an interface of one host and cannot go in a certificate';
  const typed = /^(DNS|IP):(.*)$/i.exec(value);
  if (typed) {
    const [, kind, name] = typed;
    if (kind.toUpperCase() === 'IP') return isCertificateIp(name) ? undefined : 'expected an IPv4 or IPv6 address after IP:';
    return isDnsName(name) ? undefined : 'expected a DNS name after DNS: (letters, digits, hyphens and dots, optionally *. first)';
  }
  if (isCertificateIp(value) || isDnsName(value)) return undefined;
  return 'expected a DNS name (letters, digits, hyphens and dots, optionally *. first) or an IPv4/IPv6 address';
};

const ipAddress: OptionCheck = (value) => (isCertificateIp(value) ? undefined : 'expected an IPv4 or IPv6 address');

/** By long flag; every command with that flag checks it. */
export const flagRules: Record<string, OptionCheck> = {
  // Server certificates: CAs and browsers cap public ones at 397 days (and
  // falling); ten years is more than any rotation policy wants. Past 9999-12-31
  // X.509 cannot encode the date at all (GeneralizedTime has four year digits,
  // and forge throws a stack trace instead).
  '--days': wholeNumber(1, 3650, 'a whole number of days'),
  // An hour is longer than any walsender needs to reconnect; 0 means do not wait.
  '--walsender-wait': wholeNumber(0, 3600, 'a whole number of seconds'),
  // enable --confirm-within: a new session needs a few seconds to log in and confirm; a day is the longest
  // anyone should leave a change that may lock clients out waiting for a verdict.
  '--confirm-within': wholeNumber(5, 86_400, 'a whole number of seconds'),
  '--expiry-warn-days': wholeNumber(0, 3650, 'a whole number of days'),
  '--if-expiring-within': wholeNumber(0, 3650, 'a whole number of days'),
  // ca sign leaves a certificate in place while it is valid beyond this many days.
  '--renew-within': wholeNumber(0, 3650, 'a whole number of days'),
  // The majors whose pg_hba.conf syntax pgssl knows.
  '--pg-major': oneOf(supportedMajors.map(String)),
  '--port': wholeNumber(1, 65535, 'a port number'),
  '--san': subjectAltName,
  '--addr': ipAddress,
  '--rsa-bits': oneOf(['2048', '3072', '4096']),
  '--key-type': oneOf(['ecdsa', 'rsa']),
  '--min-tls': oneOf(['1.2', '1.3']),
  // A standby's primary, as libpq reads it: keyword=value pairs or a postgresql:// URI.
  '--primary': (value) => {
    if (!looksLikeConninfo(value)) return 'expected a connection string (host=… port=… user=…) or a postgresql:// URI';
    try {
      parseConninfo(value);
      return undefined;
    } catch (error) {
      return `expected a connection string: ${(error as Error).message}`;
    }
  },
  // readiness samples sessions once a second while the DBA waits: a day is the most anyone watches a terminal.
  '--for': (value) => {
    const seconds = parseDuration(value);
    return seconds === undefined || seconds > 86_400 ? 'expected a duration from 0 to 24h (e.g. 0, 90, 90s, 15m, 2h)' : undefined;
  },
};

/** Per command (its path as typed, e.g. `client-cert`, `ca init`), over flagRules. */
export const commandRules: Record<string, Record<string, OptionCheck>> = {
  // A CA outlives the server certificates it signs: twenty years at most.
  'ca init': { '--days': wholeNumber(1, 7300, 'a whole number of days') },
  status: {
    '--format': oneOf(['text', 'json', 'prometheus']),
    '--output': (value) => (value === '' ? 'expected a file name' : undefined),
  },
};

/**
 * Flags that only make sense together, or never together, per command. Only
 * flags without a default belong here (a default is always "given").
 */
export interface FlagCombination {
  flag: string;
  /** The flag is meaningless without this one. */
  requires?: string;
  /** None of these may come with it. */
  conflicts?: string[];
  /** The rest of the message: why, and what to type instead. */
  why: string;
}

export const combinationRules: Record<string, FlagCombination[]> = {
  rotate: [
    { flag: '--finish', requires: '--ca', why: 'it is the second phase of a CA rotation (pgssl rotate --ca, then pgssl rotate --ca --finish)' },
    {
      flag: '--ca',
      conflicts: ['--ca-cert', '--ca-key'],
      why: "--ca rotates pgssl's own CA (in its state folder); a CA you keep yourself is rotated by you: make the new CA, put a bundle of both in ssl_ca_file and give it to clients, then pgssl rotate --cert-file/--key-file with a certificate from the new CA and --ca-file the bundle",
    },
    { flag: '--ca', conflicts: ['--cert-file', '--key-file', '--ca-file'], why: '--ca issues the server certificate from the new CA itself at --finish; pgssl rotate --cert-file/--key-file (without --ca) installs your own pair' },
    { flag: '--ca', conflicts: ['--check', '--if-expiring-within'], why: 'a CA rotation is begun and finished by hand, not on a timer; --check and --if-expiring-within are for the server certificate (pgssl rotate --check)' },
  ],
};

/** Given values by long flag; a repeatable option gives every occurrence. */
export type GivenOptions = Record<string, string | string[] | boolean | undefined>;

/** Every problem with the given values, one line each (`--days abc: expected …`), in the order of `given`. */
export function optionProblems(command: string, given: GivenOptions): string[] {
  const rules = { ...flagRules, ...commandRules[command] };
  const problems: string[] = [];
  for (const [flag, raw] of Object.entries(given)) {
    const check = rules[flag];
    if (!check || raw === undefined || typeof raw === 'boolean') continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      const expected = check(value);
      if (expected) problems.push(`${flag} ${shown(value)}: ${expected}`);
    }
  }
  const isGiven = (flag: string) => given[flag] !== undefined && given[flag] !== false;
  for (const rule of combinationRules[command] ?? []) {
    if (!isGiven(rule.flag)) continue;
    if (rule.requires && !isGiven(rule.requires)) problems.push(`${rule.flag} without ${rule.requires}: ${rule.why}`);
    const clashing = (rule.conflicts ?? []).filter(isGiven);
    if (clashing.length > 0) problems.push(`${rule.flag} with ${clashing.join(', ')}: ${rule.why}`);
  }
  return problems;
}

/** The value as typed, in quotes only when it would not read as one word (`--san "bad name"`, `--days ""`). */
function shown(value: string): string {
  return /^[\w.:*@%/+-]+$/.test(value) ? value : JSON.stringify(value);
}

/** One message for all of them: the only line, or a count and one indented line each. */
export function optionProblemsMessage(problems: string[]): string {
  if (problems.length === 1) return problems[0];
  return `${problems.length} invalid options:\n${problems.map((p) => `  ${p}`).join('\n')}`;
}
