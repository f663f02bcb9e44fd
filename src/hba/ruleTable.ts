/**
 * One file's rules, column by column. A 100k-rule file must not become
 * millions of objects for the garbage collector to copy: each rule is a small
 * handle on these typed arrays, which hold what a rewrite asks (line,
 * offsets, type, method, loopback-only). Tokens, address and options are
 * parsed again from the rule's own line, by the same parser, when first asked.
 */
import type { ConnectionType, HbaAddress, HbaField, HbaOption, HbaRule, HbaToken } from './model.js';
import { allMethods } from './syntax.js';
import { doubled } from './typedArrays.js';
import { firstTokenSpan, LogicalLineReader, type LogicalLine } from './tokenize.js';

export const connectionTypeNames: readonly ConnectionType[] = ['local', 'host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc'];

/** What the parse of one rule yields beyond its position. */
export interface RuleFacts {
  type: ConnectionType;
  method: string;
  address: HbaAddress | undefined;
  loopbackOnly: boolean;
  options: HbaOption[];
}

/** Everything about a rule, built on demand. */
export interface RuleDetails extends RuleFacts {
  fields: HbaField[];
}

/** Bits of a rule's packed column: type (3), loopback-only (1), method (4). */
const loopbackBit = 8;
const methodShift = 4;

export class RuleTable {
  count = 0;
  line: Int32Array;
  fileStart: Int32Array;
  typeStart: Int32Array;
  /** Bytes of the type keyword as written; 255 for 255 or more. */
  typeLength: Uint8Array;
  packed: Uint8Array;
  /** Rules whose details are built (asked for, or read through an @file). */
  private details = new Map<number, RuleDetails>();
  private handles: RuleHandle[] = [];

  constructor(
    readonly path: string,
    readonly bytes: Buffer,
    private readonly continuations: boolean,
    /** Parses the rule that starts at this offset and line again. */
    private readonly reparse: (fileStart: number, line: number) => RuleDetails,
  ) {
    // Sized for ~32 bytes a rule; 14 bytes a rule, because every page touched is paid for.
    const capacity = Math.max(64, bytes.length >> 5);
    this.line = new Int32Array(capacity);
    this.fileStart = new Int32Array(capacity);
    this.typeStart = new Int32Array(capacity);
    this.typeLength = new Uint8Array(capacity);
    this.packed = new Uint8Array(capacity);
  }

  add(logical: LogicalLine, facts: RuleFacts, typeStart: number, typeEnd: number, details?: RuleDetails): void {
    if (this.count === this.line.length) this.grow();
    const i = this.count++;
    this.line[i] = logical.firstLine;
    this.fileStart[i] = logical.fileStart;
    this.typeStart[i] = typeStart;
    this.typeLength[i] = Math.min(255, typeEnd - typeStart);
    this.packed[i] = connectionTypeNames.indexOf(facts.type) | (facts.loopbackOnly ? loopbackBit : 0) | (allMethods.indexOf(facts.method) << methodShift);
    if (details) this.details.set(i, details);
  }

  private grow(): void {
    this.line = doubled(this.line);
    this.fileStart = doubled(this.fileStart);
    this.typeStart = doubled(this.typeStart);
    this.typeLength = doubled(this.typeLength);
    this.packed = doubled(this.packed);
  }

  /** Rule i as an object (the same one each time). */
  rule(i: number): HbaRule {
    if (i < 0 || i >= this.count) throw new RangeError(`no rule ${i} in ${this.path}`);
    return (this.handles[i] ??= new RuleHandle(this, i));
  }

  typeOf(i: number): ConnectionType {
    return connectionTypeNames[this.packed[i] & 7];
  }

  methodOf(i: number): string {
    return allMethods[this.packed[i] >> methodShift];
  }

  isLoopbackOnly(i: number): boolean {
    return (this.packed[i] & loopbackBit) !== 0;
  }

  /** File offset just past the keyword; -1 when it came from an @file. */
  typeEnd(i: number): number {
    return this.typeStart[i] < 0 ? -1 : this.typeStart[i] + this.typeLength[i];
  }

  /** Physical lines of rule i and the offset past its last one (read again from the file). */
  span(i: number): { lineCount: number; fileEnd: number } {
    const reader = new LogicalLineReader(this.bytes, this.continuations).seek(this.fileStart[i], this.line[i]);
    reader.next();
    return { lineCount: reader.lineCount, fileEnd: reader.fileEnd };
  }

  /** Rule i's keyword as written: start, end, and the end of its value (see firstTokenSpan). */
  keywordSpan(i: number): { start: number; valueEnd: number; end: number } | undefined {
    return firstTokenSpan(this.bytes, this.fileStart[i], this.line[i], this.continuations);
  }

  detailsOf(i: number): RuleDetails {
    let details = this.details.get(i);
    if (!details) {
      details = this.reparse(this.fileStart[i], this.line[i]);
      this.details.set(i, details);
    }
    return details;
  }
}

class RuleHandle implements HbaRule {
  constructor(
    private readonly table: RuleTable,
    private readonly index: number,
  ) {}

  get kind(): 'rule' {
    return 'rule';
  }
  get file(): string {
    return this.table.path;
  }
  get line(): number {
    return this.table.line[this.index];
  }
  get lineCount(): number {
    return this.table.span(this.index).lineCount;
  }
  get type(): ConnectionType {
    return this.table.typeOf(this.index);
  }
  get method(): string {
    return this.table.methodOf(this.index);
  }
  get loopbackOnly(): boolean {
    return this.table.isLoopbackOnly(this.index);
  }
  get typeStart(): number {
    return this.table.typeStart[this.index];
  }
  get typeEnd(): number {
    return this.table.typeEnd(this.index);
  }
  get raw(): string {
    return this.table.bytes.toString('utf8', this.table.fileStart[this.index], this.table.span(this.index).fileEnd);
  }
  get address(): HbaAddress | undefined {
    return this.table.detailsOf(this.index).address;
  }
  get options(): HbaOption[] {
    return this.table.detailsOf(this.index).options;
  }
  get typeToken(): HbaToken {
    return this.table.detailsOf(this.index).fields[0][0];
  }
  get databases(): HbaToken[] {
    return this.table.detailsOf(this.index).fields[1];
  }
  get users(): HbaToken[] {
    return this.table.detailsOf(this.index).fields[2];
  }
}
