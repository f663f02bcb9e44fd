/**
 * The only way a step changes a server: each method registers the undo in the
 * journal *before* the change (certbot's reverter), then makes it. Files are
 * backed up into the run's own folder (never beside the configuration) and
 * written atomically through symbolic links; settings go through ALTER SYSTEM
 * with their previous postgresql.auto.conf value recorded. The journal is
 * created at the first real change, so a run that changes nothing leaves none.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic, writeTarget, type StreamedContent } from '../files/atomicWrite.js';
import { fileSystemError } from '../files/fileErrors.js';
import type { FileOwner } from '../files/owner.js';
import type { Client } from '../server/connect.js';
import { alterSystemStatement } from '../server/settings.js';
import { readAutoConfValues } from '../server/autoConfValues.js';
import { Journal, type FileEntry, type ServerIdentity } from './journal.js';
import { writtenCopyPath } from './undo.js';

export interface FileWrite {
  path: string;
  content: string | Buffer | StreamedContent;
  /** Mode and owner of the new file; default: those of the file it replaces. */
  mode?: number;
  owner?: FileOwner;
  why: string;
  /** Text the DBA edits (pg_hba.conf): keep a copy of what pgssl wrote, the base for rollback's merge. */
  keepWrittenCopy?: boolean;
}

export interface WrittenFile {
  path: string;
  target: string;
  action: 'created' | 'replaced' | 'unchanged';
  backup?: string;
  mode: number;
}

export interface RunChangesContext {
  stateDir: string;
  stateOwner: FileOwner | undefined;
  command: string;
  server: ServerIdentity;
  client: Client;
  autoConfPath: string;
}

export class RunChanges {
  private journalValue: Journal | undefined;


  constructor(private readonly context: RunChangesContext) {}

  get journal(): Journal | undefined {
    return this.journalValue;
  }

  /** The run's journal, created now if no change made it yet: for a record that must precede the next change (a confirm window). */
  journalForRecord(): Journal {
    return this.openJournal();
  }

  private openJournal(): Journal {
    return (this.journalValue ??= Journal.create(this.context.stateDir, this.context.command, this.context.server, this.context.stateOwner));
  }

  /** Writes one file (idempotent: identical content and mode change nothing), journaled first. Throws OperationalError naming the path. */
  writeFile(change: FileWrite): WrittenFile {
    return writeWithBackup(change, {
      backupPath: (target) => {
        const journal = this.openJournal();
        return { path: join(journal.backupDir(), `${journal.data.entries.length + 1}-${basename(target)}`), owner: journal.fileOwner };
      },
      beforeWrite: (entry) => this.openJournal().record(entry),
    });
  }

  /** ALTER SYSTEM SET name = value, after recording the postgresql.auto.conf value it replaces. */
  async setSetting(name: string, value: string): Promise<void> {
    const current = await readAutoConfValues(this.context.client, this.context.autoConfPath);
    this.openJournal().record({ kind: 'setting', name, before: current.get(name) ?? null, after: value });
    await this.context.client.query(alterSystemStatement(name, value));
  }

  /** ALTER SYSTEM RESET name, after recording the postgresql.auto.conf value it removes. */
  async resetSetting(name: string): Promise<void> {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`unexpected setting name "${name}"`);
    const current = await readAutoConfValues(this.context.client, this.context.autoConfPath);
    this.openJournal().record({ kind: 'setting', name, before: current.get(name) ?? null, after: null });
    await this.context.client.query(`ALTER SYSTEM RESET ${name}`);
  }

  /** Ends a backend (never undone: the client reconnects by itself). */
  async terminate(pid: number, what: string): Promise<void> {
    this.openJournal().record({ kind: 'terminated', pid, what });
    await this.context.client.query('SELECT pg_terminate_backend($1)', [pid]);
  }
}

function shaOf(content: string | Buffer | StreamedContent): string {
  const hash = createHash('sha256');
  if (typeof content === 'string' || Buffer.isBuffer(content)) hash.update(content);
  else content.stream((bytes, length) => hash.update(bytes.subarray(0, length)));
  return hash.digest('hex');
}

/**
 * The same writes without a journal (`hba rewrite --write`, offline): each
 * replaced file is copied into `backupDir` (0600) first; never beside it.
 */
export function backupOnlyWriter(backupDir: () => string, owner?: FileOwner): { writeFile(change: FileWrite): WrittenFile } {
  let count = 0;
  return { writeFile: (change) => writeWithBackup({ ...change, keepWrittenCopy: false }, { backupPath: (target) => ({ path: join(backupDir(), `${++count}-${basename(target)}`), owner }) }) };
}

interface BackupPolicy {
  backupPath(target: string): { path: string; owner: FileOwner | undefined };
  /** Registers the undo (the journal) after the backup and before the write. */
  beforeWrite?(entry: FileEntry): void;
}

/**
 * One file write: through links, a byte-identical backup of what it replaces
 * (and, for text the DBA edits, a copy of what pgssl writes: the base of
 * rollback's merge), then the atomic write with the final mode and owner.
 */
function writeWithBackup(change: FileWrite, policy: BackupPolicy): WrittenFile {
  const target = writeTarget(change.path);
  const stat = existsSync(target) ? statSync(target) : undefined;
  const mode = change.mode ?? (stat ? stat.mode & 0o7777 : 0o600);
  const owner = change.owner ?? (stat ? { uid: stat.uid, gid: stat.gid } : undefined);
  const afterSha = shaOf(change.content);
  const previous = stat ? readFileSync(target) : undefined;
  const beforeSha = previous ? createHash('sha256').update(previous).digest('hex') : undefined;
  const ownerAsWanted = !owner || !stat || process.getuid?.() !== 0 || (stat.uid === owner.uid && stat.gid === owner.gid);
  if (stat && beforeSha === afterSha && (stat.mode & 0o7777) === mode && ownerAsWanted) return { path: change.path, target, action: 'unchanged', mode };
  let backup: string | undefined;
  if (previous) {
    const where = policy.backupPath(target);
    backup = where.path;
    try {
      writeFileAtomic(backup, previous, { mode: 0o600, ...(where.owner ?? {}) });
      if (change.keepWrittenCopy) writeFileAtomic(writtenCopyPath({ backup })!, change.content, { mode: 0o600, ...(where.owner ?? {}) });
    } catch (error) {
      throw fileSystemError(error, 'back up', backup);
    }
  }
  policy.beforeWrite?.({
    kind: 'file',
    path: change.path,
    target,
    existed: Boolean(stat),
    backup,
    mode: stat ? stat.mode & 0o7777 : mode,
    uid: stat?.uid ?? owner?.uid ?? process.getuid?.() ?? 0,
    gid: stat?.gid ?? owner?.gid ?? process.getgid?.() ?? 0,
    beforeSha,
    afterSha,
    why: change.why,
  });
  try {
    writeFileAtomic(target, change.content, { mode, ...(process.getuid?.() === 0 && owner ? owner : {}) });
  } catch (error) {
    throw fileSystemError(error, 'write', target);
  }
  return { path: change.path, target, action: stat ? 'replaced' : 'created', backup, mode };
}
