/**
 * The run journal: every change is registered on disk *before* it is made
 * (file: existed or not, backup, mode, owner), so that a failure, a Ctrl-C or a
 * kill -9 at any point can be undone by replaying it in reverse, and
 * `pgssl rollback` can do so later. One JSON file per run, rewritten
 * atomically after each entry, in the state folder.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicWrite.js';

export type JournalEntry =
  | { kind: 'file'; path: string; existed: boolean; backup?: string; mode?: number; uid?: number; gid?: number; why: string }
  | { kind: 'server-config'; path: string; backup: string; mode: number; uid: number; gid: number; why: string }
  | { kind: 'terminated'; pid: number; what: string };

export type JournalStatus = 'in-progress' | 'applied' | 'undone' | 'rolled-back' | 'undo-failed';

export interface JournalData {
  version: 1;
  command: string;
  server: { systemIdentifier: string; dataDirectory: string; port: number };
  startedAt: string;
  status: JournalStatus;
  entries: JournalEntry[];
  notes: string[];
}

export class Journal {
  private constructor(
    readonly path: string,
    readonly data: JournalData,
  ) {}

  static create(stateDir: string, command: string, server: JournalData['server'], now = new Date()): Journal {
    const dir = journalDir(stateDir, server.systemIdentifier);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = `${now.toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '.$1Z')}-${command}.json`;
    const journal = new Journal(join(dir, name), { version: 1, command, server, startedAt: now.toISOString(), status: 'in-progress', entries: [], notes: [] });
    journal.save();
    return journal;
  }

  static load(path: string): Journal {
    return new Journal(path, JSON.parse(readFileSync(path, 'utf8')) as JournalData);
  }

  /** Registers a change before it happens. */
  record(entry: JournalEntry): void {
    this.data.entries.push(entry);
    this.save();
  }

  note(text: string): void {
    this.data.notes.push(text);
    this.save();
  }

  setStatus(status: JournalStatus): void {
    this.data.status = status;
    this.save();
  }

  get changed(): boolean {
    return this.data.entries.some((e) => e.kind !== 'terminated');
  }

  private save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
  }
}

export function journalDir(stateDir: string, systemIdentifier: string): string {
  return join(stateDir, 'runs', systemIdentifier);
}

/** The newest journal of this server that changed something and was not undone yet. */
export function latestUndoableJournal(stateDir: string, systemIdentifier: string): Journal | undefined {
  let names: string[];
  try {
    names = readdirSync(journalDir(stateDir, systemIdentifier)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return undefined;
  }
  for (const name of names.reverse()) {
    const journal = Journal.load(join(journalDir(stateDir, systemIdentifier), name));
    if (journal.data.status === 'undone' || journal.data.status === 'rolled-back') continue;
    if (!journal.changed) continue;
    return journal;
  }
  return undefined;
}
