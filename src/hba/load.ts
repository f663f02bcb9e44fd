/**
 * Reads pg_hba.conf with everything it pulls in: include, include_if_exists
 * and include_dir records (16+) and @file references, each resolved relative
 * to the file that names it (AbsoluteConfigLocation). File access goes through
 * a reader so tests and offline commands can supply their own.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { HbaError, HbaRule, HbaToken, ParsedHbaFile } from './model.js';
import { parseHbaText } from './parse.js';
import { hbaSyntax } from './syntax.js';
import { logicalLines, splitPhysicalLines, tokenizeLine } from './tokenize.js';

export interface FileReader {
  read(path: string): string;
  list(dir: string): string[];
}

export const diskReader: FileReader = {
  read: (path) => readFileSync(path, 'utf8'),
  list: (dir) => readdirSync(dir),
};

/** PostgreSQL's CONF_FILE_MAX_DEPTH. */
const maxDepth = 10;

export interface LoadedHba {
  /** Every file read, the main one first, in the order they were reached. */
  files: ParsedHbaFile[];
  /** Rules in the order the server tries them. */
  rules: HbaRule[];
  errors: HbaError[];
}

export function loadHba(path: string, major: number, reader: FileReader = diskReader): LoadedHba {
  const loaded: LoadedHba = { files: [], rules: [], errors: [] };
  const mainPath = resolve(path);
  let text: string;
  try {
    text = reader.read(mainPath);
  } catch (error) {
    loaded.errors.push({ file: mainPath, line: 0, column: 0, message: `could not open file "${mainPath}": ${(error as Error).message}` });
    return loaded;
  }
  loadInto(loaded, mainPath, text, major, reader, 0);
  return loaded;
}

function loadInto(loaded: LoadedHba, path: string, text: string, major: number, reader: FileReader, depth: number): void {
  const parsed = parseHbaText(text, { path, major, expandAtFile: (name, from) => expandAtFile(name, from, major, reader, depth + 1) });
  loaded.files.push(parsed);
  loaded.errors.push(...parsed.errors);
  for (const record of parsed.records) {
    if (record.kind === 'rule') {
      loaded.rules.push(record);
      continue;
    }
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
}

function includeFile(loaded: LoadedHba, target: string, missingOk: boolean, fail: (m: string) => void, major: number, reader: FileReader, depth: number): void {
  let text: string;
  try {
    text = reader.read(target);
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
  let text: string;
  try {
    text = reader.read(target);
  } catch (error) {
    return { tokens: [], error: `could not open file "${target}": ${(error as Error).message}` };
  }
  const syntax = hbaSyntax(major);
  const tokens: HbaToken[] = [];
  for (const logical of logicalLines(splitPhysicalLines(text), syntax.continuations)) {
    const tokenized = tokenizeLine(logical, { maxTokenBytes: syntax.maxTokenBytes });
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

/** A reader that sees `overrides` (path → new text) in place of the files on disk. */
export function overlayReader(base: FileReader, overrides: { path: string; after: string }[]): FileReader {
  const byPath = new Map(overrides.map((o) => [o.path, o.after]));
  return { read: (path) => byPath.get(path) ?? base.read(path), list: (dir) => base.list(dir) };
}
