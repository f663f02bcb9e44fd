/**
 * pg_hba.conf tokenizing, faithful to PostgreSQL's hba.c (tokenize_auth_file,
 * next_token): blanks (space, tab, CR) and commas separate tokens, a comma
 * continues the field, `#` outside quotes ends the line, `""` inside quotes is
 * a literal quote, and (14+) a line ending in a backslash continues on the next
 * one. Pure; keeps the offset of every token for a byte-exact rewrite.
 */
import type { HbaField, HbaToken, PhysicalLine } from './model.js';

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

/**
 * One record's text as PostgreSQL sees it (continuations joined), with the
 * physical lines it came from: one segment per line, so that a character's file
 * offset, line and column are found without a per-character table.
 */
export interface LogicalLine {
  firstLine: number;
  lineCount: number;
  text: string;
  segments: { logicalStart: number; fileStart: number; line: number }[];
}

export function logicalLines(lines: PhysicalLine[], continuations: boolean): LogicalLine[] {
  const result: LogicalLine[] = [];
  let i = 0;
  while (i < lines.length) {
    const logical: LogicalLine = { firstLine: lines[i].number, lineCount: 0, text: '', segments: [] };
    while (i < lines.length) {
      const line = lines[i++];
      logical.lineCount++;
      // pg_strip_crlf removed the EOL; a stray trailing \r (from "\r\r\n") goes too.
      let text = line.text;
      while (text.endsWith('\r')) text = text.slice(0, -1);
      const continues = continuations && text.length > 0 && text.endsWith('\\');
      logical.segments.push({ logicalStart: logical.text.length, fileStart: line.start, line: line.number });
      logical.text = logical.segments.length === 1 ? (continues ? text.slice(0, -1) : text) : logical.text + (continues ? text.slice(0, -1) : text);
      if (!continues) break;
    }
    result.push(logical);
  }
  return result;
}

function segmentOf(logical: LogicalLine, index: number) {
  const { segments } = logical;
  let k = segments.length - 1;
  while (k > 0 && segments[k].logicalStart > index) k--;
  return segments[k];
}

export function fileOffset(logical: LogicalLine, index: number): number {
  const segment = logical.segments.length === 1 ? logical.segments[0] : segmentOf(logical, index);
  return segment.fileStart + index - segment.logicalStart;
}

export function position(logical: LogicalLine, index: number): { line: number; column: number } {
  const segment = segmentOf(logical, index);
  return { line: segment.line, column: index - segment.logicalStart + 1 };
}

const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r';

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

export function tokenizeLine(logical: LogicalLine, options: TokenizeOptions = {}): TokenizedLine {
  const { text } = logical;
  const fields: HbaField[] = [];
  let pos = 0;
  let current: HbaField = [];
  let unterminatedQuote: TokenizedLine['unterminatedQuote'];
  while (pos < text.length) {
    while (pos < text.length && (isBlank(text[pos]) || text[pos] === ',')) pos++;
    if (pos >= text.length) break;
    const tokenStart = pos;
    // Values are sliced out of the line; only a token with quotes is rebuilt char by char.
    let value = '';
    let quotedChars = false;
    let inQuote = false;
    let wasQuote = false;
    let sawQuote = false;
    let initialQuote = false;
    let terminatingComma = false;
    let comment = false;
    while (pos < text.length && (!isBlank(text[pos]) || inQuote)) {
      const c = text[pos];
      if (c === '#' && !inQuote) {
        comment = true;
        break;
      }
      if (c === ',' && !inQuote) {
        terminatingComma = true;
        break;
      }
      if (c === '"' && !quotedChars) {
        quotedChars = true;
        value = text.slice(tokenStart, pos);
      }
      if (quotedChars && (c !== '"' || wasQuote)) value += c;
      wasQuote = inQuote && c === '"' ? !wasQuote : false;
      if (c === '"') {
        inQuote = !inQuote;
        sawQuote = true;
        if (value.length === 0) initialQuote = true;
      }
      pos++;
    }
    if (!quotedChars) value = text.slice(tokenStart, pos);
    if (inQuote && !unterminatedQuote) unterminatedQuote = position(logical, tokenStart);
    const hasToken = sawQuote || value.length > 0;
    if (hasToken) {
      if (options.maxTokenBytes !== undefined && Buffer.byteLength(value) > options.maxTokenBytes) {
        return { fields, error: { message: `authentication file token too long (over ${options.maxTokenBytes} bytes)`, ...position(logical, tokenStart) } };
      }
      const first = logical.segments.length === 1 ? logical.segments[0] : segmentOf(logical, tokenStart);
      const token: HbaToken = {
        value,
        quoted: initialQuote,
        start: first.fileStart + tokenStart - first.logicalStart,
        end: fileOffset(logical, pos - 1) + 1,
        line: first.line,
        column: tokenStart - first.logicalStart + 1,
      };
      current.push(token);
    }
    if (comment) break;
    if (!terminatingComma) {
      if (current.length > 0) fields.push(current);
      current = [];
    }
  }
  if (current.length > 0) fields.push(current);
  return { fields, unterminatedQuote };
}
