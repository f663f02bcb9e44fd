/**
 * One record's fields as the record parser reads them: straight from the
 * token buffer (no string made unless asked for), or from token objects after
 * @file expansion. The parser runs the same checks on both.
 */
import type { HbaField, HbaToken } from './model.js';
import { bytesEqual, hasQuote, initialQuote, tokenAt, tokenValue, type LogicalLine, type TokenBuffer } from './tokenize.js';

export interface Fields {
  readonly count: number;
  size(f: number): number;
  value(f: number, i: number): string;
  /** Written with a quote first: never a keyword. */
  quoted(f: number, i: number): boolean;
  /** Index in `words` of the token's value, or -1. */
  lookup(f: number, i: number, words: readonly string[]): number;
  startsWith(f: number, i: number, char: string): boolean;
  /**
   * For a token written exactly as a valid IPv4 "a.b.c.d/n": first octet * 256
   * + n; otherwise -1 (and the caller takes the general path).
   */
  ipv4Cidr(f: number, i: number): number;
  /** The token as an object, with its position (for messages and callers that keep it). */
  token(f: number, i: number): HbaToken;
}

export class BufferFields implements Fields {
  constructor(
    private readonly logical: LogicalLine,
    private readonly buffer: TokenBuffer,
  ) {}

  get count(): number {
    return this.buffer.fieldCount;
  }
  size(f: number): number {
    return this.buffer.fieldFirst[f + 1] - this.buffer.fieldFirst[f];
  }
  value(f: number, i: number): string {
    const t = this.buffer.fieldFirst[f] + i;
    return tokenValue(this.logical.bytes, this.buffer.starts[t], this.buffer.ends[t], this.buffer.flags[t]);
  }
  quoted(f: number, i: number): boolean {
    return (this.buffer.flags[this.buffer.fieldFirst[f] + i] & initialQuote) !== 0;
  }
  lookup(f: number, i: number, words: readonly string[]): number {
    const t = this.buffer.fieldFirst[f] + i;
    if (this.buffer.flags[t] & hasQuote) return words.indexOf(this.value(f, i));
    const { starts, ends } = this.buffer;
    for (let w = 0; w < words.length; w++) if (bytesEqual(this.logical.bytes, starts[t], ends[t], words[w])) return w;
    return -1;
  }
  startsWith(f: number, i: number, char: string): boolean {
    const t = this.buffer.fieldFirst[f] + i;
    if (this.buffer.flags[t] & hasQuote) return this.value(f, i).startsWith(char);
    return this.logical.bytes[this.buffer.starts[t]] === char.charCodeAt(0);
  }
  ipv4Cidr(f: number, i: number): number {
    const t = this.buffer.fieldFirst[f] + i;
    if (this.buffer.flags[t] !== 0) return -1;
    return ipv4CidrBytes(this.logical.bytes, this.buffer.starts[t], this.buffer.ends[t]);
  }
  token(f: number, i: number): HbaToken {
    return tokenAt(this.logical, this.buffer, this.buffer.fieldFirst[f] + i);
  }
}

export class ArrayFields implements Fields {
  constructor(private readonly fields: HbaField[]) {}

  get count(): number {
    return this.fields.length;
  }
  size(f: number): number {
    return this.fields[f].length;
  }
  value(f: number, i: number): string {
    return this.fields[f][i].value;
  }
  quoted(f: number, i: number): boolean {
    return this.fields[f][i].quoted;
  }
  lookup(f: number, i: number, words: readonly string[]): number {
    return words.indexOf(this.fields[f][i].value);
  }
  startsWith(f: number, i: number, char: string): boolean {
    return this.fields[f][i].value.startsWith(char);
  }
  ipv4Cidr(): number {
    return -1;
  }
  token(f: number, i: number): HbaToken {
    return this.fields[f][i];
  }
}

/**
 * "a.b.c.d/n" in bytes[start, end) with four decimal octets 0-255 without a
 * leading zero (node:net's isIPv4) and n of one or two digits up to 32:
 * first octet * 256 + n. Anything else: -1.
 */
export function ipv4CidrBytes(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let first = -1;
  for (let octet = 0; octet < 4; octet++) {
    if (i >= end) return -1;
    let value = bytes[i] - 48;
    if (value < 0 || value > 9) return -1;
    let digits = 1;
    i++;
    while (i < end && bytes[i] >= 48 && bytes[i] <= 57) {
      if (value === 0 || ++digits > 3) return -1;
      value = value * 10 + bytes[i] - 48;
      i++;
    }
    if (value > 255) return -1;
    if (octet === 0) first = value;
    if (i >= end || bytes[i] !== (octet < 3 ? 46 : 47)) return -1;
    i++;
  }
  const digits = end - i;
  if (digits < 1 || digits > 2) return -1;
  let prefix = 0;
  for (; i < end; i++) {
    const d = bytes[i] - 48;
    if (d < 0 || d > 9) return -1;
    prefix = prefix * 10 + d;
  }
  return prefix <= 32 ? first * 256 + prefix : -1;
}
