/**
 * pg_hba.conf tokenizing, faithful to PostgreSQL's hba.c (tokenize_auth_file,
 * next_token): blanks (space, tab, CR) and commas separate tokens, a comma
 * continues the field, `#` outside quotes ends the line, `""` inside quotes is
 * a literal quote, and (14+) a line ending in a backslash continues on the next
 * one. Pure.
 *
 * Like hba.c it reads bytes, not characters: the separators are ASCII, which
 * UTF-8 never uses inside a multi-byte character, and the token limit counts
 * bytes. Offsets are byte offsets into the file.
 *
 * Built for 100k-rule files: the scanner writes token offsets into reusable
 * typed arrays and never decodes a string it is not asked for, so a whole file
 * is read without leaving millions of small objects for the garbage collector.
 * tokenizeLine() turns one line into token objects when a caller wants them.
 */
import type { HbaField, HbaToken, PhysicalLine } from './model.js';
import { doubled } from './typedArrays.js';

export function splitPhysicalLines(text: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let start = 0;
  let number = 1;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const crlf = newline !== -1 && end > start && text[end - 1] === '\r';
    lines.push({
      number: number++,
      start,
      text: text.slice(start, crlf ? end - 1 : end),
      eol: newline === -1 ? '' : crlf ? '\r\n' : '\n',
    });
    start = newline === -1 ? text.length : newline + 1;
  }
  return lines;
}

export function serializeLines(lines: PhysicalLine[]): string {
  return lines.map((line) => line.text + line.eol).join('');
}

/** The bytes of one record as PostgreSQL reads them, and where they sit in the file. */
export interface LogicalLine {
  readonly firstLine: number;
  readonly lineCount: number;
  /** The bytes the record is read from: the file itself, or the joined bytes of a continued record. */
  readonly bytes: Buffer;
  /** The record is bytes[from, to): EOL, trailing CRs and continuation backslashes left out. */
  readonly from: number;
  readonly to: number;
  /** File offsets of the record's first byte and of the end of its last line (EOL included). */
  readonly fileStart: number;
  readonly fileEnd: number;
  fileOffset(index: number): number;
  /** Line and column (in characters, 1-based) of a byte of the record. */
  position(index: number): { line: number; column: number };
}

/** A physical line's place in a joined record. */
interface Segment {
  logicalStart: number;
  fileStart: number;
  line: number;
}

/**
 * Walks a file record by record. One object for the whole file: next() moves
 * it to the following logical line, so reading allocates nothing per line
 * except for continued records (joined into new bytes, as hba.c does).
 */
export class LogicalLineReader implements LogicalLine {
  firstLine = 0;
  lineCount = 0;
  bytes: Buffer;
  from = 0;
  to = 0;
  fileStart = 0;
  fileEnd = 0;
  private segments: Segment[] | undefined;
  private nextStart = 0;
  private nextLine = 1;

  constructor(
    readonly source: Buffer,
    readonly continuations: boolean,
  ) {
    this.bytes = source;
  }

  /** Positions the reader so that next() reads the record starting at this line. */
  seek(fileStart: number, line: number): this {
    this.nextStart = fileStart;
    this.nextLine = line;
    return this;
  }

  next(): boolean {
    const source = this.source;
    if (this.nextStart >= source.length) return false;
    this.firstLine = this.nextLine;
    this.fileStart = this.nextStart;
    this.segments = undefined;
    this.bytes = source;
    let start = this.nextStart;
    let parts: Buffer[] | undefined;
    let joinedLength = 0;
    let count = 0;
    for (;;) {
      const newline = indexOfNewline(source, start);
      const lineEnd = newline === -1 ? source.length : newline;
      // pg_strip_crlf removes the EOL; a stray trailing \r (from "\r\r\n") goes too.
      let end = lineEnd;
      while (end > start && source[end - 1] === 13) end--;
      const continues = this.continuations && end > start && source[end - 1] === 92;
      const next = newline === -1 ? source.length : newline + 1;
      count++;
      if (parts === undefined && !continues) {
        this.from = start;
        this.to = end;
        this.nextStart = next;
        break;
      }
      parts ??= [];
      (this.segments ??= []).push({ logicalStart: joinedLength, fileStart: start, line: this.firstLine + count - 1 });
      const part = source.subarray(start, continues ? end - 1 : end);
      parts.push(part);
      joinedLength += part.length;
      this.nextStart = next;
      if (!continues || next >= source.length) break;
      start = next;
    }
    if (parts !== undefined) {
      this.bytes = Buffer.concat(parts, joinedLength);
      this.from = 0;
      this.to = joinedLength;
    }
    this.lineCount = count;
    this.nextLine = this.firstLine + count;
    this.fileEnd = this.nextStart;
    return true;
  }

  /**
   * next() and scanTokens() in one pass over the bytes for the common record
   * of one physical line; a continued record takes the joined path.
   */
  nextScanned(buffer: TokenBuffer, maxTokenBytes?: number): boolean {
    const source = this.source;
    const start = this.nextStart;
    if (start >= source.length) return false;
    const stop = scanTokens(source, start, source.length, buffer, maxTokenBytes);
    const newline = stop < source.length && source[stop] === 10 ? stop : indexOfNewline(source, stop);
    let end = newline === -1 ? source.length : newline;
    while (end > start && source[end - 1] === 13) end--;
    if (this.continuations && end > start && source[end - 1] === 92) {
      this.next();
      scanTokens(this.bytes, this.from, this.to, buffer, maxTokenBytes);
      return true;
    }
    this.firstLine = this.nextLine++;
    this.lineCount = 1;
    this.fileStart = start;
    this.segments = undefined;
    this.bytes = source;
    this.from = start;
    this.to = end;
    this.nextStart = this.fileEnd = newline === -1 ? source.length : newline + 1;
    return true;
  }

  private segmentOf(index: number): Segment {
    const segments = this.segments!;
    let k = segments.length - 1;
    while (k > 0 && segments[k].logicalStart > index) k--;
    return segments[k];
  }

  fileOffset(index: number): number {
    if (!this.segments) return index;
    const segment = this.segmentOf(index);
    return segment.fileStart + index - segment.logicalStart;
  }

  position(index: number): { line: number; column: number } {
    if (!this.segments) return { line: this.firstLine, column: characterCount(this.bytes, this.from, index) + 1 };
    const segment = this.segmentOf(index);
    return { line: segment.line, column: characterCount(this.bytes, segment.logicalStart, index) + 1 };
  }
}

/**
 * Offset of the next LF at or after `from`, or -1. A plain loop: Buffer#indexOf
 * crosses into C++ on every call, which costs more than the ~50 bytes of a
 * typical line.
 */
function indexOfNewline(bytes: Buffer, from: number): number {
  for (let i = from; i < bytes.length; i++) if (bytes[i] === 10) return i;
  return -1;
}

/** Characters in bytes[from, to) of UTF-8: every byte that does not continue a character. */
function characterCount(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if ((bytes[i] & 0xc0) !== 0x80) count++;
  return count;
}

/** Token flags. */
export const initialQuote = 1;
export const hasQuote = 2;

/**
 * The tokens of one line as offsets into the line's bytes, grouped in fields
 * (tokens joined by commas). Reused from line to line.
 */
export class TokenBuffer {
  count = 0;
  starts = new Int32Array(32);
  ends = new Int32Array(32);
  flags = new Uint8Array(32);
  fieldCount = 0;
  /** fieldFirst[f] is field f's first token; fieldFirst[fieldCount] === count. */
  fieldFirst = new Int32Array(33);
  /** Index where a token longer than the major allows starts, or -1. */
  tooLongAt = -1;
  /** Index where a quote that was never closed opened, or -1. */
  unterminatedAt = -1;

  reset(): void {
    this.count = 0;
    this.fieldCount = 0;
    this.fieldFirst[0] = 0;
    this.tooLongAt = -1;
    this.unterminatedAt = -1;
  }

  push(start: number, end: number, flags: number, newField: boolean): void {
    if (this.count === this.starts.length) {
      this.starts = doubled(this.starts);
      this.ends = doubled(this.ends);
      this.flags = doubled(this.flags);
    }
    if (newField) {
      if (this.fieldCount + 1 >= this.fieldFirst.length) this.fieldFirst = doubled(this.fieldFirst);
      this.fieldFirst[this.fieldCount] = this.count;
      this.fieldCount++;
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.flags[this.count] = flags;
    this.count++;
    this.fieldFirst[this.fieldCount] = this.count;
  }
}


const isBlank = (c: number) => c === 32 || c === 9 || c === 13;

/**
 * next_token() over bytes[from, to), every token of the line into the buffer.
 * Stops early at a LF (the end of a physical line), a `#` outside quotes, or a
 * token that is too long; returns where it stopped.
 */
function scanTokens(bytes: Buffer, from: number, to: number, buffer: TokenBuffer, maxTokenBytes?: number): number {
  buffer.reset();
  let pos = from;
  let fieldOpen = false;
  while (pos < to) {
    let c = bytes[pos];
    while (isBlank(c) || c === 44) {
      if (++pos >= to) break;
      c = bytes[pos];
    }
    if (pos >= to || c === 10) break;
    const tokenStart = pos;
    let quotedChars = false;
    let inQuote = false;
    let wasQuote = false;
    let sawQuote = false;
    let startsQuoted = false;
    // Whether the dequoted value has a byte yet (a quote met before any is an initial quote).
    let valueStarted = false;
    let terminatingComma = false;
    let comment = false;
    while (pos < to) {
      // Above ',' nothing is special: the bulk of every token, skipped in a tight loop.
      const run = pos;
      while (pos < to && bytes[pos] > 44) pos++;
      if (pos > run) {
        valueStarted = true;
        wasQuote = false;
        if (pos >= to) break;
      }
      c = bytes[pos];
      if (c === 10) break;
      if (!inQuote) {
        if (isBlank(c)) break;
        if (c === 35) {
          comment = true;
          break;
        }
        if (c === 44) {
          terminatingComma = true;
          break;
        }
      }
      if (c === 34) {
        quotedChars = true;
        if (wasQuote) valueStarted = true;
        wasQuote = inQuote ? !wasQuote : false;
        inQuote = !inQuote;
        sawQuote = true;
        if (!valueStarted) startsQuoted = true;
      } else {
        valueStarted = true;
        wasQuote = false;
      }
      pos++;
    }
    if (inQuote && buffer.unterminatedAt < 0) buffer.unterminatedAt = tokenStart;
    if (sawQuote || pos > tokenStart) {
      const flags = (startsQuoted ? initialQuote : 0) | (quotedChars ? hasQuote : 0);
      if (maxTokenBytes !== undefined && pos - tokenStart > maxTokenBytes && tokenBytes(bytes, tokenStart, pos, flags).length > maxTokenBytes) {
        buffer.tooLongAt = tokenStart;
        return pos;
      }
      buffer.push(tokenStart, pos, flags, !fieldOpen);
      fieldOpen = true;
    }
    if (comment || c === 10) break;
    if (!terminatingComma) fieldOpen = false;
  }
  return pos;
}

/** A token's bytes: quotes removed, `""` inside quotes read as one quote. */
function tokenBytes(bytes: Buffer, start: number, end: number, flags: number): Buffer {
  if (!(flags & hasQuote)) return bytes.subarray(start, end);
  const value = Buffer.allocUnsafe(end - start);
  let length = 0;
  let inQuote = false;
  let wasQuote = false;
  for (let pos = start; pos < end; pos++) {
    const c = bytes[pos];
    if (c !== 34 || wasQuote) value[length++] = c;
    wasQuote = inQuote && c === 34 ? !wasQuote : false;
    if (c === 34) inQuote = !inQuote;
  }
  return value.subarray(0, length);
}

/**
 * The first token of the record that starts at fileStart, in file offsets:
 * where it starts and ends, and where its value ends (just past the byte that
 * holds its last character: closing quotes and continuations left out). The
 * rewrite inserts "ssl" there, so a keyword written `"host"`, `h"os"t` or
 * split by a continuation keeps every byte it had.
 */
export function firstTokenSpan(bytes: Buffer, fileStart: number, line: number, continuations: boolean): { start: number; valueEnd: number; end: number } | undefined {
  const reader = new LogicalLineReader(bytes, continuations).seek(fileStart, line);
  if (!reader.next()) return undefined;
  const buffer = new TokenBuffer();
  scanTokens(reader.bytes, reader.from, reader.to, buffer);
  if (buffer.count === 0) return undefined;
  const logical = reader.bytes;
  let last = -1;
  let inQuote = false;
  let wasQuote = false;
  // The walk of tokenBytes(): a byte is part of the value unless it is a quote that only opens or closes.
  for (let pos = buffer.starts[0]; pos < buffer.ends[0]; pos++) {
    const c = logical[pos];
    if (c !== 34 || wasQuote) last = pos;
    wasQuote = inQuote && c === 34 ? !wasQuote : false;
    if (c === 34) inQuote = !inQuote;
  }
  if (last < 0) return undefined;
  return { start: reader.fileOffset(buffer.starts[0]), valueEnd: reader.fileOffset(last) + 1, end: reader.fileOffset(buffer.ends[0] - 1) + 1 };
}

/** A token's value as text. */
export function tokenValue(bytes: Buffer, start: number, end: number, flags: number): string {
  if (!(flags & hasQuote)) return bytes.toString('utf8', start, end);
  return tokenBytes(bytes, start, end, flags).toString('utf8');
}

/** Whether bytes[start, end) is exactly this ASCII word. */
export function bytesEqual(bytes: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

export interface TokenizeOptions {
  /** Before 16 a token longer than 255 bytes is an error ("token too long"). */
  maxTokenBytes?: number;
}

export interface TokenizedLine {
  fields: HbaField[];
  error?: { message: string; line: number; column: number };
  /** A quote was still open at the end of the line (PostgreSQL keeps the rest as the token). */
  unterminatedQuote?: { line: number; column: number };
}

export function tooLongMessage(maxTokenBytes: number): string {
  return `authentication file token too long (over ${maxTokenBytes} bytes)`;
}

/** Token objects for one line, for callers that keep them. */
export function tokenizeLine(logical: LogicalLine, options: TokenizeOptions = {}, buffer = new TokenBuffer()): TokenizedLine {
  scanTokens(logical.bytes, logical.from, logical.to, buffer, options.maxTokenBytes);
  const fields = fieldsOf(logical, buffer);
  const unterminatedQuote = buffer.unterminatedAt >= 0 ? logical.position(buffer.unterminatedAt) : undefined;
  if (buffer.tooLongAt >= 0) return { fields, error: { message: tooLongMessage(options.maxTokenBytes!), ...logical.position(buffer.tooLongAt) }, unterminatedQuote };
  return { fields, unterminatedQuote };
}

export function fieldsOf(logical: LogicalLine, buffer: TokenBuffer): HbaField[] {
  const fields: HbaField[] = [];
  for (let f = 0; f < buffer.fieldCount; f++) {
    const field: HbaField = [];
    for (let t = buffer.fieldFirst[f]; t < buffer.fieldFirst[f + 1]; t++) field.push(tokenAt(logical, buffer, t));
    fields.push(field);
  }
  return fields;
}

export function tokenAt(logical: LogicalLine, buffer: TokenBuffer, t: number): HbaToken {
  const start = buffer.starts[t];
  const end = buffer.ends[t];
  const { line, column } = logical.position(start);
  return {
    value: tokenValue(logical.bytes, start, end, buffer.flags[t]),
    quoted: (buffer.flags[t] & initialQuote) !== 0,
    start: logical.fileOffset(start),
    end: logical.fileOffset(end - 1) + 1,
    line,
    column,
  };
}
