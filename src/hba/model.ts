/** The pg_hba.conf data model shared by parse, rewrite and evaluate. */

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
  /** File offsets of the raw token (quotes included); -1 when from an @file. */
  start: number;
  end: number;
  /** 1-based line and column of the token's first character. */
  line: number;
  column: number;
}

export type HbaField = HbaToken[];

export type ConnectionType = 'local' | 'host' | 'hostssl' | 'hostnossl' | 'hostgssenc' | 'hostnogssenc';

export interface HbaRule {
  kind: 'rule';
  file: string;
  /** Line where the record starts (PostgreSQL's line_number). */
  line: number;
  /** Physical lines the record spans (continuations). */
  lineCount: number;
  type: ConnectionType;
  typeToken: HbaToken;
  databases: HbaToken[];
  users: HbaToken[];
  address?: HbaAddress;
  method: string;
  options: { name: string; value: string }[];
  /** The record's text as written (physical lines joined with their EOLs). */
  raw: string;
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
  path: string;
  lines: PhysicalLine[];
  records: HbaRecord[];
  errors: HbaError[];
}
