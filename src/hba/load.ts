/**
 * Reads pg_hba.conf with everything it pulls in: include, include_if_exists
 * and include_dir records (16+) and @file references, each resolved relative
 * to the file that names it (AbsoluteConfigLocation). File access goes through
 * a reader so tests and offline commands can supply their own.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { HbaError, HbaRule, HbaToken, ParsedHbaFile, RuleRun } from './model.js';
import { parseHbaText } from './parse.js';
import { hbaSyntax } from './syntax.js';
import { LogicalLineReader, TokenBuffer, tokenizeLine } from './tokenize.js';

export interface FileReader {
  /** A file's bytes (a string is taken as UTF-8). */
  read(path: string): Buffer | string;
  list(dir: string): string[];
}

export const diskReader: FileReader = {
  read: (path) => readFileSync(path),
  list: (dir) => readdirSync(dir),
};

function readBytes(reader: FileReader, path: string): Buffer {
  const content = reader.read(path);
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** PostgreSQL's CONF_FILE_MAX_DEPTH. */
const maxDepth = 10;

export class LoadedHba {
  /** Every file read, the main one first, in the order they were reached. */
  readonly files: ParsedHbaFile[] = [];
  /** The rules as runs of each file's table, in the order the server tries them. */
  readonly runs: RuleRun[] = [];
  readonly errors: HbaError[] = [];
  private listed: HbaRule[] | undefined;

  get ruleCount(): number {
    return this.runs.reduce((sum, run) => sum + run.to - run.from, 0);
  }

  /** Rules in the order the server tries them (one object each, made on first use). */
  get rules(): HbaRule[] {
    if (!this.listed) {
      const rules: HbaRule[] = [];
      for (const { table, from, to } of this.runs) for (let i = from; i < to; i++) rules.push(table.rule(i));
      this.listed = rules;
    }
    return this.listed;
  }
}

export function loadHba(path: string, major: number, reader: FileReader = diskReader): LoadedHba {
  const loaded = new LoadedHba();
  const mainPath = resolve(path);
  let text: Buffer;
  try {
    text = readBytes(reader, mainPath);
  } catch (error) {
    loaded.errors.push({ file: mainPath, line: 0, column: 0, message: `could not open file "${mainPath}": ${(error as Error).message}` });
    return loaded;
  }
  loadInto(loaded, mainPath, text, major, reader, 0);
  if (loaded.errors.length === 0 && loaded.ruleCount === 0) loaded.errors.push(noRulesError(mainPath, major, loaded.files[0].includes.length > 0));
  return loaded;
}

/**
 * load_hba(): a file that yields no rule at all (comments only, or includes
 * that add none) is refused: the server does not start with it, and a reload
 * keeps the rules it had. Like the server, this names the main file, no line.
 */
function noRulesError(mainPath: string, major: number, includes: boolean): HbaError {
  const where = includes ? ' (the files it includes add none either)' : '';
  return {
    file: mainPath,
    line: 0,
    column: 0,
    message: `configuration file "${mainPath}" contains no entries${where}: PostgreSQL ${major} refuses to start with it, and a reload keeps the previous rules; add at least one rule, e.g. "local all all peer"`,
  };
}

function loadInto(loaded: LoadedHba, path: string, text: Buffer, major: number, reader: FileReader, depth: number): void {
  const parsed = parseHbaText(text, { path, major, expandAtFile: (name, from) => expandAtFile(name, from, major, reader, depth + 1) });
  loaded.files.push(parsed);
  loaded.errors.push(...parsed.errors);
  let ruleCount = 0;
  for (const { record, afterRules } of parsed.includes) {
    if (afterRules > ruleCount) loaded.runs.push({ table: parsed.table, from: ruleCount, to: afterRules });
    ruleCount = afterRules;
    const fail = (message: string) => loaded.errors.push({ file: path, line: record.line, column: 1, message });
    const target = absoluteConfigLocation(record.target, path);
    if (depth + 1 > maxDepth) {
      fail(`could not open file "${target}": maximum nesting depth exceeded`);
      continue;
    }
    if (record.directive === 'include_dir') {
      let names: string[];
      try {
        names = reader.list(target);
      } catch (error) {
        fail(`could not open directory "${target}": ${(error as Error).message}`);
        continue;
      }
      // GetConfFilesInDir: *.conf, no dot files, in strcmp order.
      for (const name of names.filter((n) => n.endsWith('.conf') && !n.startsWith('.')).sort(byteOrder)) {
        includeFile(loaded, join(target, name), false, fail, major, reader, depth);
      }
    } else {
      includeFile(loaded, target, record.directive === 'include_if_exists', fail, major, reader, depth);
    }
  }
  if (parsed.table.count > ruleCount) loaded.runs.push({ table: parsed.table, from: ruleCount, to: parsed.table.count });
}

function includeFile(loaded: LoadedHba, target: string, missingOk: boolean, fail: (m: string) => void, major: number, reader: FileReader, depth: number): void {
  let text: Buffer;
  try {
    text = readBytes(reader, target);
  } catch (error) {
    if (missingOk && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
    fail(`could not open file "${target}": ${(error as Error).message}`);
    return;
  }
  loadInto(loaded, target, text, major, reader, depth + 1);
}

function expandAtFile(name: string, fromFile: string, major: number, reader: FileReader, depth: number): { tokens: HbaToken[]; error?: string } {
  const target = absoluteConfigLocation(name, fromFile);
  if (depth > maxDepth) return { tokens: [], error: `could not open file "${target}": maximum nesting depth exceeded` };
  let text: Buffer;
  try {
    text = readBytes(reader, target);
  } catch (error) {
    return { tokens: [], error: `could not open file "${target}": ${(error as Error).message}` };
  }
  const syntax = hbaSyntax(major);
  const tokens: HbaToken[] = [];
  const lines = new LogicalLineReader(text, syntax.continuations);
  const buffer = new TokenBuffer();
  while (lines.next()) {
    const tokenized = tokenizeLine(lines, { maxTokenBytes: syntax.maxTokenBytes }, buffer);
    if (tokenized.error) return { tokens, error: `${target}:${tokenized.error.line}: ${tokenized.error.message}` };
    for (const field of tokenized.fields) {
      for (const token of field) {
        if (!token.quoted && token.value.length > 1 && token.value.startsWith('@')) {
          const nested = expandAtFile(token.value.slice(1), target, major, reader, depth + 1);
          if (nested.error) return nested;
          tokens.push(...nested.tokens);
        } else {
          // Offsets point into another file: mark them so no rewrite touches them.
          tokens.push({ ...token, start: -1, end: -1 });
        }
      }
    }
  }
  return { tokens };
}

export function absoluteConfigLocation(target: string, fromFile: string): string {
  return isAbsolute(target) ? target : resolve(dirname(fromFile), target);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A reader that sees `overrides` (path → new content) in place of the files on disk. */
export function overlayReader(base: FileReader, overrides: { path: string; afterBytes: Buffer }[]): FileReader {
  const byPath = new Map(overrides.map((o) => [o.path, o.afterBytes]));
  return { read: (path) => byPath.get(path) ?? base.read(path), list: (dir) => base.list(dir) };
}
