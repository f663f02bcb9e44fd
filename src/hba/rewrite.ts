/**
 * Plans host → hostssl on the rules that can let a remote client in without
 * TLS. Only the keyword changes; the padding after it shrinks to keep the next
 * column where it was, and never below one blank. Pure: returns the plan and
 * the new texts; writing them is the caller's job.
 */
import { isLoopbackAddress } from './addresses.js';
import type { HbaRule, ParsedHbaFile } from './model.js';
import type { LoadedHba } from './load.js';
import { serializeLines } from './tokenize.js';

export interface RewriteOptions {
  /** Convert loopback-only rules too. */
  includeLoopback?: boolean;
  /** Leave rules naming the replication keyword as they are. */
  skipReplication?: boolean;
  /** Only rules whose database field names one of these. */
  databases?: string[];
  /** Only rules whose user field names one of these. */
  users?: string[];
  /** Only rules whose address is written exactly like one of these. */
  addresses?: string[];
  /** Rules (file:line) the user chose to leave alone. */
  exclude?: Set<string>;
}

export type KeepReason =
  | 'local socket'
  | 'already hostssl'
  | 'GSSAPI-encrypted'
  | 'hostnossl'
  | 'hostnogssenc'
  | 'reject rule'
  | 'loopback only'
  | 'replication left alone'
  | 'outside the chosen limits'
  | 'deselected'
  | 'keyword not rewritable in place';

export interface RuleChange {
  file: string;
  line: number;
  before: string;
  after: string;
  rule: HbaRule;
}

export interface RewritePlan {
  changes: RuleChange[];
  kept: { rule: HbaRule; reason: KeepReason }[];
  /** hostnossl/hostnogssenc rules that let a non-loopback client in without TLS: reported, never changed. */
  holes: HbaRule[];
  /** New text of every file that changes. */
  files: { path: string; before: string; after: string }[];
}

export function ruleId(rule: { file: string; line: number }): string {
  return `${rule.file}:${rule.line}`;
}

export function isLoopbackRule(rule: HbaRule): boolean {
  const address = rule.address;
  if (!address) return true;
  switch (address.kind) {
    case 'ip':
      return address.prefix >= 0 && isLoopbackAddress(`${address.ip}/${address.prefix}`);
    case 'hostname':
      return address.hostname.toLowerCase() === 'localhost';
    case 'samehost':
      return true;
    default:
      return false;
  }
}

function namesReplication(rule: HbaRule): boolean {
  return rule.databases.some((t) => !t.quoted && t.value === 'replication');
}

function keepReason(rule: HbaRule, options: RewriteOptions): KeepReason | undefined {
  switch (rule.type) {
    case 'local':
      return 'local socket';
    case 'hostssl':
      return 'already hostssl';
    case 'hostgssenc':
      return 'GSSAPI-encrypted';
    case 'hostnossl':
      return 'hostnossl';
    case 'hostnogssenc':
      // Admits plain clients too, but it is not a `host` rule: reported as a hole, left as written.
      return 'hostnogssenc';
    case 'host':
      break;
  }
  if (rule.method === 'reject') return 'reject rule';
  if (!options.includeLoopback && isLoopbackRule(rule)) return 'loopback only';
  if (options.skipReplication && namesReplication(rule)) return 'replication left alone';
  const inLimit = (limit: string[] | undefined, tokens: { value: string }[]) => !limit || tokens.some((t) => limit.includes(t.value));
  if (!inLimit(options.databases, rule.databases) || !inLimit(options.users, rule.users)) return 'outside the chosen limits';
  if (options.addresses && !(rule.address && options.addresses.includes(rule.address.text))) return 'outside the chosen limits';
  if (options.exclude?.has(ruleId(rule))) return 'deselected';
  return undefined;
}

export function planRewrite(loaded: LoadedHba, options: RewriteOptions = {}): RewritePlan {
  const plan: RewritePlan = { changes: [], kept: [], holes: [], files: [] };
  const edits = new Map<string, { start: number; end: number; replacement: string }[]>();
  const texts = new Map(loaded.files.map((f) => [f.path, { file: f, text: serializeLines(f.lines) }]));
  for (const rule of loaded.rules) {
    if ((rule.type === 'hostnossl' || rule.type === 'hostnogssenc') && rule.method !== 'reject' && !isLoopbackRule(rule)) plan.holes.push(rule);
    const reason = keepReason(rule, options);
    if (reason) {
      plan.kept.push({ rule, reason });
      continue;
    }
    const { file, text } = texts.get(rule.file)!;
    const edit = keywordEdit(file, text, rule);
    if (!edit) {
      plan.kept.push({ rule, reason: 'keyword not rewritable in place' });
      continue;
    }
    const fileEdits = edits.get(rule.file);
    if (fileEdits) fileEdits.push(edit);
    else edits.set(rule.file, [edit]);
    const line = file.lines[rule.line - 1];
    const lineBefore = line.text;
    const lineAfter = lineBefore.slice(0, edit.start - line.start) + edit.replacement + lineBefore.slice(edit.end - line.start);
    plan.changes.push({ file: rule.file, line: rule.line, before: lineBefore, after: lineAfter, rule });
  }
  for (const [path, fileEdits] of edits) {
    const before = texts.get(path)!.text;
    // One pass over the text: linear in its size however many rules change.
    const pieces: string[] = [];
    let cursor = 0;
    for (const edit of [...fileEdits].sort((a, b) => a.start - b.start)) {
      pieces.push(before.slice(cursor, edit.start), edit.replacement);
      cursor = edit.end;
    }
    pieces.push(before.slice(cursor));
    const after = pieces.join('');
    plan.files.push({ path, before, after });
  }
  return plan;
}

/** The edit that turns this rule's `host` into `hostssl`, padding adjusted. */
function keywordEdit(file: ParsedHbaFile, text: string, rule: HbaRule): { start: number; end: number; replacement: string } | undefined {
  const token = rule.typeToken;
  const raw = text.slice(token.start, token.end);
  // A keyword split by a continuation or oddly quoted is left for a human.
  const replacement = raw === 'host' ? 'hostssl' : raw === '"host"' ? '"hostssl"' : undefined;
  if (!replacement) return undefined;
  const lineStart = file.lines[token.line - 1].start;
  let sepEnd = token.end;
  while (sepEnd < text.length && (text[sepEnd] === ' ' || text[sepEnd] === '\t')) sepEnd++;
  const separator = text.slice(token.end, sepEnd);
  if (separator === '') return { start: token.start, end: token.end, replacement };
  const prefixColumn = visualColumn(text.slice(lineStart, token.start));
  const target = visualColumn(separator, visualColumn(raw, prefixColumn));
  const replacedColumn = visualColumn(replacement, prefixColumn);
  // Common case: plain spaces, enough to absorb the three extra characters.
  if (/^ +$/.test(separator) && separator.length > 3) return { start: token.start, end: sepEnd, replacement: replacement + separator.slice(3) };
  let best = separator;
  let bestDistance = Infinity;
  for (let removed = 0; removed <= separator.length; removed++) {
    const candidate = removeLeadingSpaces(separator, removed);
    if (candidate === undefined || candidate.length === 0) break;
    const distance = Math.abs(visualColumn(candidate, replacedColumn) - target);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
    if (distance === 0) break;
  }
  return { start: token.start, end: sepEnd, replacement: replacement + best };
}

function removeLeadingSpaces(separator: string, count: number): string | undefined {
  let result = separator;
  for (let i = 0; i < count; i++) {
    const index = result.indexOf(' ');
    if (index === -1) return undefined;
    result = result.slice(0, index) + result.slice(index + 1);
  }
  return result;
}

/** Column after the text, with tab stops every 8 as editors and `cat` show them. */
export function visualColumn(text: string, startColumn = 0): number {
  let column = startColumn;
  for (const ch of text) column = ch === '\t' ? column + 8 - (column % 8) : column + 1;
  return column;
}
