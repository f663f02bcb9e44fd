/**
 * Each plain client against the planned pg_hba.conf: the rule that would
 * decide its next connection once the rewrite is in force. Pure: the same
 * first-match evaluator as enable's lockout check (hba/evaluate.ts).
 */
import { evaluateHba, type ConnectionAttempt } from '../hba/evaluate.js';
import type { HbaRule } from '../hba/model.js';
import type { PlainClient } from './clients.js';

export type Verdict =
  /** A reject rule or no rule at all would decide. */
  | { verdict: 'refused'; rule?: RuleRef }
  | { verdict: 'allowed'; rule: RuleRef }
  /** The decision depends on what pgssl cannot know here (host names, samenet, no address). */
  | { verdict: 'unknown'; reason: string; rules: RuleRef[] };

export interface RuleRef {
  file: string;
  line: number;
  text: string;
}

export interface JudgedClient extends PlainClient {
  judgement: Verdict;
}

export function ruleRef(rule: HbaRule): RuleRef {
  return { file: rule.file, line: rule.line, text: rule.raw.split(/\r?\n/)[0].trim() };
}

/** `memberOf`: the roles each role belongs to (for +group and samerole rules). */
export function judgeClients(clients: PlainClient[], plannedRules: HbaRule[], options: { major: number; memberOf: Map<string, string[]> }): JudgedClient[] {
  return clients.map((client) => ({ ...client, judgement: judge(client, plannedRules, options) }));
}

function judge(client: PlainClient, rules: HbaRule[], options: { major: number; memberOf: Map<string, string[]> }): Verdict {
  const regex = { regularExpressions: options.major >= 16 };
  if (!client.address) {
    return { verdict: 'unknown', reason: 'its address is not in the log (log_connections has no receipt line for it and log_line_prefix has no %h or %r)', rules: [] };
  }
  const attempt: ConnectionAttempt = {
      local: false,
      ssl: false,
      gssEncrypted: client.gssEncrypted,
      database: client.database ?? '',
      user: client.user,
      memberOf: options.memberOf.get(client.user) ?? [],
      address: client.address,
      physicalReplication: client.replication && !client.database,
  };
  // Regular expressions in the user and database fields are 16+ (hba.c).
  const result = evaluateHba(rules, attempt, regex);
  // The evaluator skips a host-name or samenet rule before looking at its role and database:
  // only those that would match this client if the address did leave the verdict open.
  const open = result.uncertain.filter((rule) => evaluateHba([{ ...fieldsOf(rule), address: { kind: 'all', text: 'all' } }], attempt, regex).rule !== undefined);
  if (open.length > 0) {
    return {
      verdict: 'unknown',
      reason: `${open.map((r) => `line ${r.line}`).join(', ')} names a host name or samenet, which the server resolves for each connection; if it does not match, the client ${result.verdict === 'allow' ? `is still allowed by line ${result.rule!.line}` : 'would be refused'}`,
      rules: open.map(ruleRef),
    };
  }
  if (result.verdict === 'allow') return { verdict: 'allowed', rule: ruleRef(result.rule!) };
  return { verdict: 'refused', rule: result.rule ? ruleRef(result.rule) : undefined };
}

/** The rule as a plain value (rules from a table are read through getters). */
function fieldsOf(rule: HbaRule): HbaRule {
  const { kind, file, line, lineCount, type, typeStart, typeEnd, typeToken, databases, users, address, loopbackOnly, method, options, raw } = rule;
  return { kind, file, line, lineCount, type, typeStart, typeEnd, typeToken, databases, users, address, loopbackOnly, method, options, raw };
}
