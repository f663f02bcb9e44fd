/**
 * Plans host → hostssl on the rules that can let a remote client in without
 * TLS. Only the keyword changes ("ssl" inserted after its last letter, inside
 * any quotes: see keywordEdit); the padding after it shrinks to keep the next
 * column where it was, and never below one blank. Pure: returns the plan and
 * the new texts; writing them is the caller's job.
 */
import type { LoadedHba } from './load.js';
import type { ConnectionType, HbaRule } from './model.js';
import type { RuleTable } from './ruleTable.js';
import { FileEdits, replacementCode, RewrittenFile } from './rewrittenFile.js';
import { bytesEqual } from './tokenize.js';
import { doubled } from './typedArrays.js';

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
  /** The physical line holding the keyword, before and after (the lines, for a keyword split by a continuation). */
  readonly before: string;
  readonly after: string;
  rule: HbaRule;
}

/** Lines are decoded only when someone reads them: a 100k-rule plan keeps offsets. */
class PlannedChange implements RuleChange {
  constructor(
    readonly rule: HbaRule,
    readonly start: number,
    readonly end: number,
    readonly replacement: string,
    private readonly bytes: Buffer,
  ) {}

  get file(): string {
    return this.rule.file;
  }
  get line(): number {
    return this.rule.line;
  }

  /** From the start of the keyword's line to the end of the line the edit ends on (the same one, but for a continued keyword). */
  private lineBounds(): { start: number; end: number } {
    const bytes = this.bytes;
    // Not lastIndexOf(10, -1): a negative offset counts from the end of the buffer.
    const start = this.start === 0 ? 0 : bytes.lastIndexOf(10, this.start - 1) + 1;
    const newline = bytes.indexOf(10, Math.max(start, this.end - 1));
    let end = newline === -1 ? bytes.length : newline;
    if (newline !== -1 && end > start && bytes[end - 1] === 13) end--;
    return { start, end };
  }

  get before(): string {
    const { start, end } = this.lineBounds();
    return this.bytes.toString('utf8', start, end);
  }

  get after(): string {
    const { start, end } = this.lineBounds();
    return this.bytes.toString('utf8', start, this.start) + this.replacement + this.bytes.toString('utf8', this.end, end);
  }
}

export interface RewritePlan {
  readonly changes: RuleChange[];
  /** changes.length, without making the change objects. */
  readonly changeCount: number;
  readonly kept: { rule: HbaRule; reason: KeepReason }[];
  /** hostnossl/hostnogssenc rules that let a non-loopback client in without TLS: reported, never changed. */
  readonly holes: HbaRule[];
  /** Every file that changes. */
  readonly files: RewrittenFile[];
}

export function ruleId(rule: { file: string; line: number }): string {
  return `${rule.file}:${rule.line}`;
}

function namesReplication(rule: HbaRule): boolean {
  return rule.databases.some((t) => !t.quoted && t.value === 'replication');
}

const keepReasons: readonly KeepReason[] = [
  'local socket',
  'already hostssl',
  'GSSAPI-encrypted',
  'hostnossl',
  'hostnogssenc',
  'reject rule',
  'loopback only',
  'replication left alone',
  'outside the chosen limits',
  'deselected',
  'keyword not rewritable in place',
];
const noReason = -1;
const keywordNotRewritable = keepReasons.indexOf('keyword not rewritable in place');
const byType: Record<ConnectionType, number> = {
  local: keepReasons.indexOf('local socket'),
  hostssl: keepReasons.indexOf('already hostssl'),
  hostgssenc: keepReasons.indexOf('GSSAPI-encrypted'),
  hostnossl: keepReasons.indexOf('hostnossl'),
  // Admits plain clients too, but it is not a `host` rule: reported as a hole, left as written.
  hostnogssenc: keepReasons.indexOf('hostnogssenc'),
  host: noReason,
};

/** Why rule i of the table stays as written, as an index in keepReasons, or noReason. */
function keepReason(table: RuleTable, i: number, options: RewriteOptions): number {
  const type = table.typeOf(i);
  if (type !== 'host') return byType[type];
  if (table.methodOf(i) === 'reject') return keepReasons.indexOf('reject rule');
  if (!options.includeLoopback && table.isLoopbackOnly(i)) return keepReasons.indexOf('loopback only');
  // Anything beyond the columns needs the rule's tokens: read them only when an option asks.
  if (!options.skipReplication && !options.databases && !options.users && !options.addresses && !options.exclude) return noReason;
  const rule = table.rule(i);
  if (options.skipReplication && namesReplication(rule)) return keepReasons.indexOf('replication left alone');
  const names = (tokens: { value: string }[], limit: string[]) => tokens.some((t) => limit.includes(t.value));
  if ((options.databases && !names(rule.databases, options.databases)) || (options.users && !names(rule.users, options.users))) return keepReasons.indexOf('outside the chosen limits');
  if (options.addresses && !(rule.address && options.addresses.includes(rule.address.text))) return keepReasons.indexOf('outside the chosen limits');
  if (options.exclude?.has(ruleId(rule))) return keepReasons.indexOf('deselected');
  return noReason;
}

/** A growable list of (table, rule, value) triples: a plan over 100k rules holds no object per rule. */
class RuleList {
  tables: RuleTable[] = [];
  private tableOf: Uint16Array;
  private ruleOf: Int32Array;
  private valueOf: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.tableOf = new Uint16Array(capacity);
    this.ruleOf = new Int32Array(capacity);
    this.valueOf = new Int32Array(capacity);
  }

  push(table: RuleTable, i: number, value = 0): void {
    if (this.length === this.ruleOf.length) {
      this.tableOf = doubled(this.tableOf);
      this.ruleOf = doubled(this.ruleOf);
      this.valueOf = doubled(this.valueOf);
    }
    let t = this.tables.indexOf(table);
    if (t === -1) t = this.tables.push(table) - 1;
    this.tableOf[this.length] = t;
    this.ruleOf[this.length] = i;
    this.valueOf[this.length++] = value;
  }

  map<T>(make: (table: RuleTable, i: number, value: number) => T): T[] {
    const result: T[] = [];
    for (let k = 0; k < this.length; k++) result.push(make(this.tables[this.tableOf[k]], this.ruleOf[k], this.valueOf[k]));
    return result;
  }
}


/** The plan keeps offsets and codes; its lists of objects are made when first read. */
class ColumnPlan implements RewritePlan {
  readonly files: RewrittenFile[] = [];
  private changeList: RuleChange[] | undefined;
  private keptList: { rule: HbaRule; reason: KeepReason }[] | undefined;
  private holeList: HbaRule[] | undefined;

  constructor(
    /** Per run of rules, in the server's order: its file's edits [from, to). */
    private readonly runEdits: { edits: FileEdits; from: number; to: number }[],
    private readonly keptRules: RuleList,
    private readonly holeRules: RuleList,
  ) {}

  get changeCount(): number {
    return this.runEdits.reduce((sum, run) => sum + run.to - run.from, 0);
  }

  get changes(): RuleChange[] {
    if (!this.changeList) {
      const changes: RuleChange[] = [];
      for (const { edits, from, to } of this.runEdits) {
        for (let k = from; k < to; k++) changes.push(new PlannedChange(edits.table.rule(edits.rules[k]), edits.start(k), edits.ends[k], edits.replacement(k), edits.table.bytes));
      }
      this.changeList = changes;
    }
    return this.changeList;
  }
  get kept(): { rule: HbaRule; reason: KeepReason }[] {
    return (this.keptList ??= this.keptRules.map((table, i, reason) => ({ rule: table.rule(i), reason: keepReasons[reason] })));
  }
  get holes(): HbaRule[] {
    return (this.holeList ??= this.holeRules.map((table, i) => table.rule(i)));
  }
}

export function planRewrite(loaded: LoadedHba, options: RewriteOptions = {}): RewritePlan {
  const editsByFile: FileEdits[] = [];
  const runEdits: { edits: FileEdits; from: number; to: number }[] = [];
  const kept = new RuleList();
  const holes = new RuleList();
  for (const { table, from, to } of loaded.runs) {
    // A file included twice is parsed twice: one edit list per path, on the bytes read first.
    let edits = editsByFile.find((e) => e.table.path === table.path);
    if (edits && edits.table !== table && !edits.table.bytes.equals(table.bytes)) throw new Error(`${table.path} changed between two reads of it; run the command again`);
    if (!edits) editsByFile.push((edits = new FileEdits(table)));
    const firstEdit = edits.length;
    planRun(table, from, to, options, edits, kept, holes);
    if (edits.length > firstEdit) runEdits.push({ edits, from: firstEdit, to: edits.length });
  }
  const plan = new ColumnPlan(runEdits, kept, holes);
  for (const edits of editsByFile) if (edits.length > 0) plan.files.push(new RewrittenFile(edits.table.path, edits.table.bytes, edits));
  return plan;
}

/** The loop over one run of rules, in a function of its own so that the optimizer keeps it whole. */
function planRun(table: RuleTable, from: number, to: number, options: RewriteOptions, edits: FileEdits, kept: RuleList, holes: RuleList): void {
  for (let i = from; i < to; i++) {
    const type = table.typeOf(i);
    if ((type === 'hostnossl' || type === 'hostnogssenc') && table.methodOf(i) !== 'reject' && !table.isLoopbackOnly(i)) holes.push(table, i);
    const reason = keepReason(table, i, options);
    if (reason !== noReason) {
      kept.push(table, i, reason);
      continue;
    }
    if (!keywordEdit(table, i, edit)) {
      kept.push(table, i, keywordNotRewritable);
      continue;
    }
    edits.push(i, edit.end, edit.replacement);
  }
}

/** keywordEdit's result, reused from rule to rule. */
const edit = { end: 0, replacement: 0 };

/** Codes of keyword + n spaces, by keyword: the common case, without building a string. */
const spacedCodes = new Map<string, number[]>();
function spacedCode(keyword: string, spaces: number): number {
  let codes = spacedCodes.get(keyword);
  if (!codes) spacedCodes.set(keyword, (codes = []));
  return (codes[spaces] ??= replacementCode(keyword + ' '.repeat(spaces)));
}

/**
 * Sets `into` to the edit that turns rule i's `host` into `hostssl` (from the keyword's start to
 * `end`), padding adjusted; false when it cannot be done in place (a keyword read from an @file).
 *
 * "ssl" goes right after the keyword's last letter, and nothing of what was written moves: the
 * server reads a quoted or partly quoted keyword as the keyword (only the database and user
 * fields treat quotes as literal), so `"host"` becomes `"hostssl"`, `h"os"t` `h"os"tssl`, and a
 * keyword split by a continuation (14+) `ho\⏎st` becomes `ho\⏎stssl`.
 */
function keywordEdit(table: RuleTable, i: number, into: { end: number; replacement: number }): boolean {
  const bytes = table.bytes;
  const start = table.typeStart[i];
  if (start < 0) return false;
  let end = table.typeEnd(i);
  let insertAt = end;
  if (!bytesEqual(bytes, start, end, 'host')) {
    // Quoted or continued: rare, so the rule's line is read again for where the value ends.
    const span = table.keywordSpan(i);
    if (!span || span.start !== start) return false;
    insertAt = span.valueEnd;
    end = span.end;
  }
  const head = insertAt === end && end - start === 4 ? 'hostssl' : undefined;
  let sepEnd = end;
  for (let c = bytes[sepEnd]; c === 32 || c === 9; c = bytes[++sepEnd]);
  into.end = sepEnd;
  if (head !== undefined) {
    if (sepEnd === end) {
      into.replacement = spacedCode(head, 0);
      return true;
    }
    // Common case: plain spaces, enough to absorb the three extra characters.
    const spaces = sepEnd - end;
    if (spaces > 3 && spaces < 256 && allSpaces(bytes, end, sepEnd)) {
      into.replacement = spacedCode(head, spaces - 3);
      return true;
    }
    // Next common case: one tab, and the longer keyword still ends before the same tab stop.
    if (spaces === 1 && bytes[end] === 9) {
      const column = columnOf(bytes, start);
      if (tabStop(column + 4) === tabStop(column + 7)) {
        into.replacement = tabbedCode(head);
        return true;
      }
    }
  }
  // The keyword's bytes are ASCII (letters, quotes, a continuation's backslash and EOL).
  const keyword = bytes.toString('latin1', start, insertAt) + 'ssl' + bytes.toString('latin1', insertAt, end);
  const tail = bytes.toString('latin1', insertAt, end);
  const separator = bytes.toString('latin1', end, sepEnd);
  if (tail.includes('\n') || separator.length === 0) {
    // The padding is on another line than the insertion (or there is none): nothing to realign.
    into.replacement = replacementCode(keyword + separator);
    return true;
  }
  // Columns on the physical line of the insertion, which is the line of the padding.
  const insertColumn = columnOf(bytes, insertAt);
  const target = visualColumn(separator, visualColumn(tail, insertColumn));
  const replacedColumn = visualColumn(`ssl${tail}`, insertColumn);
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
  into.replacement = replacementCode(keyword + best);
  return true;
}

const tabStop = (column: number) => column + 8 - (column % 8);

/** Visual column where the byte at `start` sits on its line (tab stops every 8). */
function columnOf(bytes: Buffer, start: number): number {
  let lineStart = start;
  while (lineStart > 0 && bytes[lineStart - 1] !== 10) lineStart--;
  let column = 0;
  for (let i = lineStart; i < start; i++) {
    // Only blanks and commas can come before the keyword; anything else is measured as text.
    if (bytes[i] >= 0x80) return visualColumn(bytes.toString('utf8', lineStart, start));
    column = bytes[i] === 9 ? tabStop(column) : column + 1;
  }
  return column;
}

const tabbedCodes = new Map<string, number>();
function tabbedCode(keyword: string): number {
  let code = tabbedCodes.get(keyword);
  if (code === undefined) tabbedCodes.set(keyword, (code = replacementCode(`${keyword}\t`)));
  return code;
}

function allSpaces(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 32) return false;
  return true;
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
