/**
 * The one undo path: a failed run, a signal, and `pgssl rollback` (online or
 * with the server down) all replay a journal in reverse through here.
 *
 * It never loses the DBA's work: a file is restored only while it still holds
 * what pgssl wrote, a setting only while postgresql.auto.conf still has
 * pgssl's value. Anything changed since is a conflict: `stop` changes nothing
 * and reports the diffs, `merge` takes back only pgssl's own lines (and
 * leaves settings changed since), `force` restores pgssl's backups anyway.
 * It never leaves a server that cannot restart: a file that the configuration
 * in force still names is not removed, and the TLS files in force are checked
 * (exist, pair matches, key mode) at the end. Each entry dealt with is marked
 * in the journal, so an undo killed half-way resumes where it stopped.
 */
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { fileSystemError } from '../files/fileErrors.js';
import { keyPermissionProblem } from '../files/keyPermissions.js';
import { undoOwnEdits, unifiedDiffOf } from '../files/lineMerge.js';
import { messageOf } from '../errors.js';
import type { FileEntry, Journal, SettingEntry } from './journal.js';

export type ConflictResolution = 'stop' | 'merge' | 'force';

/** What the undo needs from the server: online through SQL, offline through postgresql.auto.conf and `postgres -C`. */
export interface UndoServer {
  /** postgresql.auto.conf as it is now (names lower-case). */
  readAutoConf(): Promise<Map<string, string>>;
  /** ALTER SYSTEM SET name = value, or RESET for null. */
  setAutoConf(name: string, value: string | null): Promise<void>;
  /** Make the server run what is on disk now (online: reload and wait; offline: nothing). */
  reload(): Promise<void>;
  /** ssl and the TLS files the configuration in force names (after the last reload), absolute paths. */
  tlsInForce(): Promise<TlsInForce>;
}

export interface TlsInForce {
  ssl: boolean;
  files: { setting: 'ssl_cert_file' | 'ssl_key_file' | 'ssl_ca_file'; path: string }[];
  /** The server's OS user, for the key permission rule. */
  serverUid: number;
}

export interface UndoConflict {
  /** A path or a setting name. */
  what: string;
  message: string;
  diff?: string;
  /** pgssl's own lines can be taken back without touching the later edits. */
  mergeable: boolean;
}

export interface UndoResult {
  restored: string[];
  removed: string[];
  settings: string[];
  /** Left as they are: changed since (merge/stop), or still named by the configuration in force. */
  kept: string[];
  conflicts: UndoConflict[];
  failures: string[];
  /** Problems the server would have at its next restart, with the configuration now in force. */
  restartProblems: string[];
  /** True when `stop` found conflicts and nothing was changed. */
  stopped: boolean;
}

type Action =
  | { index: number; kind: 'restore'; entry: FileEntry; content: Buffer; merged: boolean }
  | { index: number; kind: 'remove'; entry: FileEntry }
  | { index: number; kind: 'setting'; entry: SettingEntry }
  | { index: number; kind: 'nothing'; what: string };

function emptyUndoResult(): UndoResult {
  return { restored: [], removed: [], settings: [], kept: [], conflicts: [], failures: [], restartProblems: [], stopped: false };
}

/** Undoes the journal. Never throws for what it could not undo: that is in `failures`. */
export async function undoJournal(journal: Journal, server: UndoServer, options: { resolution: ConflictResolution; finalStatus: 'undone' | 'rolled-back' }): Promise<UndoResult> {
  const result = emptyUndoResult();
  let autoConf: Map<string, string>;
  try {
    autoConf = await server.readAutoConf();
  } catch (error) {
    result.failures.push(`could not read postgresql.auto.conf: ${messageOf(error)}`);
    return result;
  }
  const actions = planActions(journal, autoConf, options.resolution, result);
  if (options.resolution === 'stop' && result.conflicts.length > 0) {
    result.stopped = true;
    return result;
  }
  journal.setStatus('undoing');
  // Settings undone by an earlier, interrupted undo may not be loaded yet: the files' check below must see them in force.
  let reloadNeeded = journal.data.entries.some((e) => e.kind === 'setting');
  let inForce: TlsInForce | undefined;
  for (const action of actions) {
    try {
      if (action.kind === 'nothing') {
        journal.markUndone(action.index);
        continue;
      }
      if (action.kind === 'setting') {
        await server.setAutoConf(action.entry.name, action.entry.before);
        result.settings.push(action.entry.before === null ? `RESET ${action.entry.name}` : `${action.entry.name} = '${action.entry.before}'`);
        reloadNeeded = true;
        inForce = undefined;
        journal.markUndone(action.index);
        continue;
      }
      // Files come after the settings that pointed at them (journal order, reversed): let the server drop them first.
      if (reloadNeeded) {
        await server.reload();
        reloadNeeded = false;
      }
      inForce ??= await server.tlsInForce();
      const named = inForce.ssl ? inForce.files.find((f) => f.path === action.entry.path || f.path === action.entry.target) : undefined;
      if (action.kind === 'remove') {
        if (named) {
          result.kept.push(`${action.entry.path}: ${named.setting} in force still names it, so it stays`);
        } else {
          rmSync(action.entry.target, { force: true });
          result.removed.push(action.entry.path);
          reloadNeeded = true;
        }
      } else {
        const owner = process.getuid?.() === 0 ? { uid: action.entry.uid, gid: action.entry.gid } : {};
        try {
          writeFileAtomic(action.entry.target, action.content, { mode: action.entry.mode, ...owner });
        } catch (error) {
          throw fileSystemError(error, 'restore', action.entry.target);
        }
        result.restored.push(action.merged ? `${action.entry.path} (pgssl's lines only; later edits kept)` : action.entry.path);
        reloadNeeded = true;
      }
      journal.markUndone(action.index);
    } catch (error) {
      // Keep going (certbot's error handler): one failed restore must not strand the rest.
      result.failures.push(`${action.kind === 'setting' ? action.entry.name : action.kind === 'nothing' ? action.what : action.entry.path}: ${messageOf(error)}`);
    }
  }
  try {
    if (reloadNeeded) await server.reload();
    result.restartProblems = restartProblems(await server.tlsInForce());
  } catch (error) {
    result.failures.push(`reload after undo: ${messageOf(error)}`);
  }
  journal.setStatus(result.failures.length > 0 ? 'undo-failed' : options.finalStatus);
  for (const failure of result.failures) journal.note(`undo: ${failure}`);
  return result;
}

/** Decides, before touching anything, what each entry needs; conflicts go to `result`. */
function planActions(journal: Journal, autoConf: Map<string, string>, resolution: ConflictResolution, result: UndoResult): Action[] {
  const actions: Action[] = [];
  const entries = journal.data.entries;
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index];
    if (journal.data.undoneEntries.includes(index) || entry.kind === 'terminated') continue;
    if (entry.kind === 'setting') {
      const now = autoConf.get(entry.name) ?? null;
      if (now === entry.before && now !== entry.after) actions.push({ index, kind: 'nothing', what: entry.name });
      else if (now === entry.after || resolution === 'force') actions.push({ index, kind: 'setting', entry });
      else {
        result.conflicts.push({ what: entry.name, mergeable: true, message: `${entry.name} is '${now ?? '(not set)'}' in postgresql.auto.conf now; pgssl ${entry.after === null ? 'reset it' : `set '${entry.after}'`} (before: ${entry.before === null ? 'not set' : `'${entry.before}'`})` });
        result.kept.push(`${entry.name}: changed since pgssl set it, left as it is`);
      }
      continue;
    }
    if (entry.existed && (!entry.backup || !existsSync(entry.backup))) {
      // Without its backup the previous bytes are gone: say so, and undo the rest.
      result.failures.push(`${entry.path}: its backup ${entry.backup ?? '(none recorded)'} is gone (no such file), so its previous content cannot be restored; it stays as it is`);
      continue;
    }
    const current = existsSync(entry.target) ? readFileSync(entry.target) : undefined;
    const currentSha = current ? createHash('sha256').update(current).digest('hex') : undefined;
    if (currentSha === entry.afterSha) {
      if (entry.existed) actions.push({ index, kind: 'restore', entry, content: readBackup(entry), merged: false });
      else actions.push({ index, kind: 'remove', entry });
      continue;
    }
    if (currentSha === entry.beforeSha) {
      // Killed between the journal entry and the write: there is nothing of pgssl's to take back.
      actions.push({ index, kind: 'nothing', what: entry.path });
      continue;
    }
    const conflict = describeFileConflict(entry, current);
    if (resolution === 'force') {
      if (entry.existed) actions.push({ index, kind: 'restore', entry, content: readBackup(entry), merged: false });
      else actions.push({ index, kind: 'remove', entry });
      continue;
    }
    result.conflicts.push(conflict.conflict);
    if (resolution === 'merge' && conflict.merged) actions.push({ index, kind: 'restore', entry, content: conflict.merged, merged: true });
    else result.kept.push(`${entry.path}: changed since pgssl wrote it, left as it is`);
  }
  return inJournalOrderWithinSettingRuns(actions);
}

/**
 * Settings in a row take effect together (nothing reloads between them), so
 * their order only shapes postgresql.auto.conf, where ALTER SYSTEM appends a
 * name it adds: undoing a row of RESETs in journal order puts the lines back
 * where they were, byte for byte.
 */
function inJournalOrderWithinSettingRuns(actions: Action[]): Action[] {
  const ordered: Action[] = [];
  for (let i = 0; i < actions.length; ) {
    let j = i;
    while (j < actions.length && actions[j].kind === 'setting') j++;
    if (j > i) {
      ordered.push(...actions.slice(i, j).reverse());
      i = j;
    } else ordered.push(actions[i++]);
  }
  return ordered;
}

function readBackup(entry: FileEntry): Buffer {
  if (!entry.backup) throw new Error(`no backup of ${entry.path} was recorded`);
  return readFileSync(entry.backup);
}

/**
 * What changed since pgssl wrote the file (diff against the copy of what
 * pgssl wrote, kept for text files), and the file with only pgssl's own lines
 * taken back, when the later edits do not overlap them.
 */
function describeFileConflict(entry: FileEntry, current: Buffer | undefined): { conflict: UndoConflict; merged?: Buffer } {
  if (!current) {
    return { conflict: { what: entry.path, mergeable: false, message: `${entry.path} was removed after pgssl wrote it` } };
  }
  const writtenCopy = entry.backup ? writtenCopyPath(entry) : undefined;
  const written = writtenCopy && existsSync(writtenCopy) ? readFileSync(writtenCopy, 'utf8') : undefined;
  const before = entry.backup && existsSync(entry.backup) ? readFileSync(entry.backup, 'utf8') : undefined;
  const now = current.toString('utf8');
  const diff = written !== undefined ? unifiedDiffOf(entry.path, written, now, { before: `${entry.path} (as pgssl wrote it)`, after: `${entry.path} (now)` }) : undefined;
  const merged = written !== undefined && before !== undefined ? undoOwnEdits(written, before, now) : undefined;
  return {
    conflict: {
      what: entry.path,
      mergeable: merged !== undefined,
      diff,
      message: `${entry.path} changed after pgssl wrote it${merged === undefined ? '' : ' (pgssl\'s own lines can still be taken back)'}`,
    },
    merged: merged === undefined ? undefined : Buffer.from(merged, 'utf8'),
  };
}

/** Text files that pgssl rewrites (pg_hba.conf) keep a copy of what pgssl wrote beside the backup: the base of a merge. */
export function writtenCopyPath(entry: { backup?: string }): string | undefined {
  return entry.backup ? `${entry.backup}.written` : undefined;
}

/** The server must start with what is in force: ssl on needs its files, a matching pair, a key mode PostgreSQL accepts. */
export function restartProblems(inForce: TlsInForce): string[] {
  if (!inForce.ssl) return [];
  const problems: string[] = [];
  const file = (setting: string) => inForce.files.find((f) => f.setting === setting)?.path;
  // Only what is certain counts: a file this user may not even look at (Debian's /etc/ssl/private) is the server's to judge.
  const state = (path: string): 'missing' | 'unknown' | 'readable' => {
    try {
      readFileSync(path);
      return 'readable';
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unknown';
    }
  };
  for (const f of inForce.files) if (state(f.path) === 'missing') problems.push(`${f.setting} names ${f.path}, which does not exist`);
  const certPath = file('ssl_cert_file');
  const keyPath = file('ssl_key_file');
  if (certPath && keyPath && state(certPath) === 'readable' && state(keyPath) === 'readable') {
    try {
      const cert = new X509Certificate(readFileSync(certPath));
      if (!cert.checkPrivateKey(createPrivateKey(readFileSync(keyPath)))) problems.push(`${keyPath} is not the key of ${certPath}`);
    } catch (error) {
      problems.push(`${certPath} / ${keyPath} cannot be loaded: ${messageOf(error)}`);
    }
    const keyProblem = keyPermissionProblem(statSync(keyPath), inForce.serverUid);
    if (keyProblem) problems.push(`${keyPath}: ${keyProblem}`);
  }
  return problems;
}

export function absoluteSettingPath(value: string, dataDirectory: string): string {
  return isAbsolute(value) ? value : join(dataDirectory, value);
}
