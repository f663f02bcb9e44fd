/**
 * A rewritten pg_hba.conf: the original bytes and a list of edits, turned
 * into the new bytes when asked. Pure: stream() hands the bytes to a sink,
 * writing them is the caller's job (files/atomicWrite.ts).
 */
import type { RuleTable } from './ruleTable.js';
import { doubled } from './typedArrays.js';

/** Replacements are few distinct strings ("hostssl" plus some padding): each kept once, edits hold a code. */
const replacementStrings: string[] = [];
const replacementCodes = new Map<string, number>();

export function replacementCode(text: string): number {
  let code = replacementCodes.get(text);
  if (code === undefined) {
    if (replacementStrings.length === 0xffff) throw new RangeError('too many distinct keyword replacements');
    code = replacementStrings.push(text) - 1;
    replacementCodes.set(text, code);
  }
  return code;
}

/**
 * One file's edits, in file order: replace bytes [start, end) with a
 * replacement. An edit starts where its rule's keyword does (table.typeStart).
 */
export class FileEdits {
  ends: Int32Array;
  /** The rule each edit changes, as an index in the table. */
  rules: Int32Array;
  replacements: Uint16Array;
  length = 0;

  /** One edit per rule at most, unless the file is included twice. */
  constructor(readonly table: RuleTable) {
    const capacity = Math.max(1, table.count);
    this.ends = new Int32Array(capacity);
    this.rules = new Int32Array(capacity);
    this.replacements = new Uint16Array(capacity);
  }

  push(rule: number, end: number, replacement: number): void {
    if (this.length === this.ends.length) {
      this.ends = doubled(this.ends);
      this.rules = doubled(this.rules);
      this.replacements = doubled(this.replacements);
    }
    this.ends[this.length] = end;
    this.rules[this.length] = rule;
    this.replacements[this.length] = replacement;
    this.length++;
  }

  start(k: number): number {
    return this.table.typeStart[this.rules[k]];
  }

  replacement(k: number): string {
    return replacementStrings[this.replacements[k]];
  }
}


const window = 65536;

/**
 * A file the plan changes: its bytes before, its edits, and the result. The
 * result is streamed through one small buffer (stream), or built whole when
 * asked for (afterBytes, after): on a 100k-rule file, faulting in a fresh
 * 5 MB buffer costs more than the rewrite itself.
 */
export class RewrittenFile {
  private beforeText: string | undefined;
  private afterText: string | undefined;
  private built: Buffer | undefined;

  constructor(
    readonly path: string,
    readonly beforeBytes: Buffer,
    private readonly edits: FileEdits,
  ) {}

  get before(): string {
    return (this.beforeText ??= this.beforeBytes.toString('utf8'));
  }
  get afterBytes(): Buffer {
    if (!this.built) {
      const parts: Buffer[] = [];
      this.stream((bytes, length) => parts.push(Buffer.from(bytes.subarray(0, length))));
      this.built = Buffer.concat(parts);
    }
    return this.built;
  }
  get after(): string {
    return (this.afterText ??= this.afterBytes.toString('utf8'));
  }

  /**
   * Hands the result to `sink` in order, as pieces that are only valid during
   * the call: a reused window, or long stretches of the original. Edits in
   * file order; one that overlaps the previous is skipped, as when a file is
   * included twice.
   */
  stream(sink: (bytes: Buffer, length: number) => void): void {
    if (this.built) {
      sink(this.built, this.built.length);
      return;
    }
    const source = this.beforeBytes;
    const { ends } = this.edits;
    // [0, window): the output being filled; [window, 2 * window): a copy of the source around
    // the cursor. copyWithin moves bytes inside one buffer natively and allocates nothing;
    // Buffer#copy from the source would make a view object for each of 200k stretches.
    const buffer = Buffer.allocUnsafe(2 * window);
    let used = 0;
    let staged = 0;
    let stagedEnd = 0;
    const flush = () => {
      if (used > 0) sink(buffer, used);
      used = 0;
    };
    const copy = (from: number, to: number) => {
      if (to - from > 4096) {
        flush();
        sink(source.subarray(from, to), to - from);
        return;
      }
      while (from < to) {
        if (from < staged || from >= stagedEnd) {
          staged = from;
          stagedEnd = Math.min(source.length, from + window);
          buffer.set(source.subarray(staged, stagedEnd), window);
        }
        if (used === window) flush();
        const n = Math.min(to - from, window - used, stagedEnd - from);
        buffer.copyWithin(used, window + from - staged, window + from - staged + n);
        used += n;
        from += n;
      }
    };
    let cursor = 0;
    for (let k = 0; k < this.edits.length; k++) {
      const start = this.edits.start(k);
      if (start < cursor) continue;
      copy(cursor, start);
      const replacement = this.edits.replacement(k);
      if (window - used < replacement.length) flush();
      for (let i = 0; i < replacement.length; i++) buffer[used + i] = replacement.charCodeAt(i);
      used += replacement.length;
      cursor = ends[k];
    }
    copy(cursor, source.length);
    flush();
  }
}
