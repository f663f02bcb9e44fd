/** The pg_hba.conf data model shared by parse, rewrite and evaluate. */
import type { RuleTable } from './ruleTable.js';

/** One physical line of a file, kept byte for byte. */
export interface PhysicalLine {
  /** 1-based. */
  number: number;
  /** Offset of the first character in the file text. */
  start: number;
  /** The line without its end-of-line sequence. */
  text: string;
  eol: '\n' | '\r\n' | '';
}

/** A token as PostgreSQL's next_token() yields it, plus where it came from. */
export interface HbaToken {
  /** Dequoted value. */
  value: string;
  /** A quote before the first character: never a keyword, never @file. */
  quoted: boolean;
  /** File byte offsets of the raw token (quotes included); -1 when from an @file. */
  start: number;
  end: number;
  /** 1-based line and column of the token's first character. */
  line: number;
  column: number;
}

export type HbaField = HbaToken[];

export type ConnectionType = 'local' | 'host' | 'hostssl' | 'hostnossl' | 'hostgssenc' | 'hostnogssenc';

export interface HbaRule {
  readonly kind: 'rule';
  readonly file: string;
  /** Line where the record starts (PostgreSQL's line_number). */
  readonly line: number;
  /** Physical lines the record spans (continuations). */
  readonly lineCount: number;
  readonly type: ConnectionType;
  /** File byte offsets of the connection-type keyword as written (-1 when it came from an @file). */
  readonly typeStart: number;
  readonly typeEnd: number;
  readonly typeToken: HbaToken;
  readonly databases: HbaToken[];
  readonly users: HbaToken[];
  readonly address?: HbaAddress;
  /** No client on another host can match it (no address, loopback, localhost, samehost). */
  readonly loopbackOnly: boolean;
  readonly method: string;
  readonly options: HbaOption[];
  /** The record's text as written (physical lines joined with their EOLs). */
  readonly raw: string;
}

export interface HbaOption {
  name: string;
  value: string;
}

export type HbaAddress =
  | { kind: 'all' | 'samehost' | 'samenet'; text: string }
  | { kind: 'ip'; text: string; ip: string; family: 4 | 6; prefix: number; netmask?: string }
  | { kind: 'hostname'; text: string; hostname: string };

export interface HbaInclude {
  kind: 'include';
  directive: 'include' | 'include_if_exists' | 'include_dir';
  file: string;
  line: number;
  target: string;
}

export type HbaRecord = HbaRule | HbaInclude;

export interface HbaError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ParsedHbaFile {
  readonly path: string;
  /** The file as read: records and tokens point into it by byte offset. */
  readonly bytes: Buffer;
  /** The bytes decoded as UTF-8 (on demand). */
  readonly text: string;
  /** Split on demand; serializeLines(lines) === text. */
  readonly lines: PhysicalLine[];
  /** The file's rules, column by column (records holds a handle per rule, made on demand). */
  readonly table: RuleTable;
  /** Include directives, each with the number of rules before it in this file. */
  readonly includes: { record: HbaInclude; afterRules: number }[];
  readonly records: HbaRecord[];
  readonly errors: HbaError[];
}

/** Consecutive rules [from, to) of one file's table: LoadedHba lists them in the order the server tries them. */
export interface RuleRun {
  table: RuleTable;
  from: number;
  to: number;
}
