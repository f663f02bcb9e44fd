/**
 * pgssl disable's pg_hba.conf plan, pure. Two sources of rules:
 * - the rules pgssl converted (from enable's journals): the file with only
 *   pgssl's own lines taken back (rollback's merge), so enable then disable
 *   gives back pg_hba.conf byte for byte, and lines added since stay;
 * - `--all-rules`: every remote hostssl rule becomes host, only the keyword
 *   changing (the padding after it grows to keep the next column in place).
 * Rules whose method or options need TLS (cert, clientcert=…) stay hostssl:
 * as host they would be refused by the server.
 */
import type { LoadedHba } from './load.js';
import type { HbaRule } from './model.js';

export interface LoosenedFile {
  path: string;
  beforeBytes: Buffer;
  afterBytes: Buffer;
}

export interface LoosenChange {
  file: string;
  line: number;
  before: string;
  after: string;
}

export interface LoosenPlan {
  files: LoosenedFile[];
  changes: LoosenChange[];
  /** hostssl rules that stay, and why. */
  kept: { rule: HbaRule; reason: 'needs TLS (cert or clientcert)' | 'loopback only' | 'not converted by pgssl' }[];
}

/** Whether a rule only works with TLS: cert authentication, or a client certificate demanded by an option. */
function needsTls(rule: HbaRule): boolean {
  return rule.method === 'cert' || rule.options.some((o) => o.name === 'clientcert');
}

/** --all-rules: every remote hostssl rule (loopback ones too with includeLoopback), keyword only. */
export function planLoosenAll(loaded: LoadedHba, options: { includeLoopback?: boolean }): LoosenPlan {
  const plan: LoosenPlan = { files: [], changes: [], kept: [] };
  const byFile = new Map<string, HbaRule[]>();
  for (const rule of loaded.rules) {
    if (rule.type !== 'hostssl') continue;
    if (needsTls(rule)) plan.kept.push({ rule, reason: 'needs TLS (cert or clientcert)' });
    else if (rule.loopbackOnly && !options.includeLoopback) plan.kept.push({ rule, reason: 'loopback only' });
    else if (rule.typeStart >= 0) byFile.set(rule.file, [...(byFile.get(rule.file) ?? []), rule]);
  }
  for (const file of loaded.files) {
    const rules = byFile.get(file.path);
    if (!rules) continue;
    const parts: Buffer[] = [];
    let at = 0;
    for (const rule of [...rules].sort((a, b) => a.typeStart - b.typeStart)) {
      parts.push(file.bytes.subarray(at, rule.typeStart), Buffer.from(`host${padding(file.bytes, rule.typeStart, rule.typeEnd)}`));
      at = rule.typeEnd;
    }
    parts.push(file.bytes.subarray(at));
    const afterBytes = Buffer.concat(parts);
    plan.files.push({ path: file.path, beforeBytes: file.bytes, afterBytes });
    plan.changes.push(...changedLines(file.path, file.bytes, afterBytes));
  }
  return plan;
}

/**
 * "hostssl" is 3 bytes longer than "host": spaces after the keyword keep the
 * next column where it was; a tab that reaches the same tab stop either way
 * needs none. A keyword written with quotes or next to a newline gets none.
 */
function padding(bytes: Buffer, start: number, end: number): string {
  if (end - start !== 'hostssl'.length) return '';
  const next = bytes[end];
  if (next === 0x20) return '   ';
  if (next === 0x09) {
    const column = start - (bytes.lastIndexOf(10, start - 1) + 1);
    return Math.floor((column + 4) / 8) === Math.floor((column + 7) / 8) ? '' : '   ';
  }
  return '';
}

/** The lines of two same-length-in-lines texts that differ, 1-based. */
export function changedLines(path: string, before: Buffer, after: Buffer): LoosenChange[] {
  const a = before.toString('utf8').split('\n');
  const b = after.toString('utf8').split('\n');
  const changes: LoosenChange[] = [];
  if (a.length !== b.length) return changes;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changes.push({ file: path, line: i + 1, before: a[i].replace(/\r$/, ''), after: b[i].replace(/\r$/, '') });
  return changes;
}
