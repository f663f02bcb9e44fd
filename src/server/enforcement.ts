/**
 * Proves that the rewritten pg_hba.conf is in force, from the server's side:
 * from a local source address that only a converted rule covers (127.0.0.2…,
 * or one of the host's own addresses), a plain connection must be refused with
 * "no encryption" and a TLS one must get past pg_hba.conf. The evaluator picks
 * attempts whose outcome it can predict; the server decides. Read-only.
 */
import { isIPv4 } from 'node:net';
import { evaluateHba, ruleCoversAddress } from '../hba/evaluate.js';
import type { HbaRule } from '../hba/model.js';
import { messageOf } from '../errors.js';
import { closeInBackground, observedTlsOf, openClient, type ObservedTls } from './connect.js';
import { classifyLoginFailure, passedHba, type LoginFailure } from './connectionErrors.js';
import type { ConnectionTarget } from './connectionTarget.js';

export interface EnforcementAttempt {
  rule: string;
  source: string;
  user: string;
  database: string;
  plainRefused: boolean;
  plainMessage: string;
  tlsAccepted: boolean;
  tlsMessage: string;
  /**
   * How the TLS attempt ended: 'connected', or why it stopped. 'password-required'
   * and 'password-refused' are passes: the server authenticates only after a
   * pg_hba.conf rule matched, and pgssl has no password for that user (peer on the
   * socket, scram on TCP, no password: Debian's default).
   */
  tlsOutcome: 'connected' | LoginFailure;
  plainOutcome: 'connected' | LoginFailure;
}

export interface EnforcementProof {
  ok: boolean;
  attempts: EnforcementAttempt[];
  skipped?: string;
}

/** The proof, and what the TLS attempt's handshake showed (evidence for the final status; not part of the report). */
export interface EnforcementResult {
  proof: EnforcementProof;
  observedTls?: ObservedTls;
}

const loopbackSources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.9', '127.1.2.3'];

export async function proveEnforcement(admin: ConnectionTarget, input: {
  connectHost: string;
  port: number;
  rulesAfter: HbaRule[];
  converted: HbaRule[];
  hostAddresses: string[];
  regularExpressions: boolean;
  memberOf: string[];
}): Promise<EnforcementResult> {
  const tlsOnly = (rule: HbaRule, attempt: Attempt) => {
    const plain = evaluateHba(input.rulesAfter, { ...attempt, ssl: false }, input);
    const tls = evaluateHba(input.rulesAfter, { ...attempt, ssl: true }, input);
    return plain.verdict === 'reject' && sameRule(tls.rule, rule);
  };
  for (const { rule, ...where } of candidateAttempts(input.converted, admin, input, tlsOnly)) {
    const { observedTls, ...attempt } = await attemptPair(admin, { host: input.connectHost, port: input.port, ...where });
    return { proof: { ok: attempt.plainRefused && attempt.tlsAccepted, attempts: [{ rule: `${rule.file}:${rule.line}`, ...attempt }] }, observedTls };
  }
  return {
    proof: {
      ok: true,
      attempts: [],
      skipped: 'no converted rule covers an address this host can connect from (127.0.0.2… or its own addresses); the server\'s own parse (pg_hba_file_rules) shows the hostssl rules in force',
    },
  };
}

type Attempt = { local: false; database: string; user: string; address: string; memberOf: string[] };

function sameRule(a: HbaRule | undefined, b: HbaRule): boolean {
  return a?.line === b.line && a.file === b.file;
}

/**
 * The attempts worth making, in order: for each rule (replication rules
 * left out), a user and database it names, and a local source address it
 * covers where the evaluator says `fits` — the outcome the server must then show.
 */
function* candidateAttempts(rules: HbaRule[], admin: ConnectionTarget, input: { hostAddresses: string[]; memberOf: string[] }, fits: (rule: HbaRule, attempt: Attempt) => boolean) {
  const sources = [...loopbackSources, ...input.hostAddresses.filter((a) => isIPv4(a))];
  for (const rule of rules.filter((r) => !r.databases.some((t) => !t.quoted && t.value === 'replication'))) {
    const user = pickName(rule.users, admin.user);
    const database = pickDatabase(rule.databases, user, admin.database);
    if (!user || !database) continue;
    for (const source of sources) {
      if (ruleCoversAddress(rule, source) !== true) continue;
      if (fits(rule, { local: false, database, user, address: source, memberOf: input.memberOf })) yield { rule, source, user, database };
    }
  }
}

function pickName(tokens: { value: string; quoted: boolean }[], fallback: string): string | undefined {
  for (const token of tokens) {
    if (!token.quoted && token.value === 'all') return fallback;
    if (!token.quoted && (token.value.startsWith('+') || token.value.startsWith('/'))) continue;
    return token.value;
  }
  return undefined;
}

function pickDatabase(tokens: { value: string; quoted: boolean }[], user: string | undefined, fallback: string): string | undefined {
  for (const token of tokens) {
    if (token.quoted || !['all', 'sameuser', 'samerole', 'samegroup', 'replication'].includes(token.value)) {
      if (token.value.startsWith('/')) continue;
      return token.value;
    }
    if (token.value === 'all') return fallback;
    if (token.value === 'sameuser') return user;
  }
  return undefined;
}

async function attemptPair(admin: ConnectionTarget, where: { host: string; port: number; source: string; user: string; database: string }) {
  const base = { ...admin, host: where.host, port: where.port, user: where.user, database: where.database, localAddress: where.source, promptPassword: 'never' as const, socketDirsTried: undefined };
  const outcome = async (sslmode: 'disable' | 'require'): Promise<{ connected: boolean; message: string; failure?: LoginFailure; observedTls?: ObservedTls }> => {
    try {
      const client = await openClient({ ...base, sslmode });
      const observedTls = observedTlsOf(client);
      closeInBackground(client);
      return { connected: true, message: 'connected', observedTls };
    } catch (error) {
      // The server's own words, not our explanation around them.
      const cause = (error as { cause?: unknown }).cause;
      return { connected: false, message: messageOf(cause ?? error), failure: classifyLoginFailure(error) };
    }
  };
  // Independent connections (each from its own port of the source address): tried at once.
  const [plain, tls] = await Promise.all([outcome('disable'), outcome('require')]);
  return {
    source: where.source,
    user: where.user,
    database: where.database,
    // "no encryption" from PostgreSQL 14 on, "SSL off" before.
    plainRefused: plain.failure === 'refused-no-encryption',
    plainMessage: plain.message,
    plainOutcome: plain.failure ?? ('connected' as const),
    // Past pg_hba.conf means connected, or stopped later by authentication (a password we do not have).
    tlsAccepted: tls.connected || passedHba(tls.failure!),
    observedTls: tls.observedTls,
    tlsMessage: tls.message,
    tlsOutcome: tls.failure ?? ('connected' as const),
  };
}

/**
 * pgssl disable's proof, the enforcement proof reversed: from a local source
 * address only a loosened rule covers, a plain connection must get past
 * pg_hba.conf (connected, or asked for a password). Read-only.
 */
export async function proveLoosened(admin: ConnectionTarget, input: {
  connectHost: string;
  port: number;
  rulesAfter: HbaRule[];
  loosened: HbaRule[];
  hostAddresses: string[];
  regularExpressions: boolean;
  memberOf: string[];
}): Promise<EnforcementProof> {
  const plainAllowed = (rule: HbaRule, attempt: Attempt) => {
    const plain = evaluateHba(input.rulesAfter, { ...attempt, ssl: false }, input);
    return plain.verdict === 'allow' && sameRule(plain.rule, rule);
  };
  for (const { rule, ...where } of candidateAttempts(input.loosened, admin, input, plainAllowed)) {
    const { observedTls: _tls, ...attempt } = await attemptPair(admin, { host: input.connectHost, port: input.port, ...where });
    const plainPassed = attempt.plainOutcome === 'connected' || passedHba(attempt.plainOutcome);
    return { ok: plainPassed, attempts: [{ rule: `${rule.file}:${rule.line}`, ...attempt }] };
  }
  return { ok: true, attempts: [], skipped: 'no loosened rule covers an address this host can connect from (127.0.0.2… or its own addresses); the server\'s own parse (pg_hba_file_rules) shows the rules in force' };
}
