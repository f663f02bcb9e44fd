/**
 * The run journal: every change is registered on disk *before* it is made, so
 * that a failure, a signal or a kill -9 at any point can be undone by
 * replaying it in reverse, and `pgssl rollback` can do so later. One JSON
 * file per run (`runs/<system id>/<run id>.json`, rewritten atomically after
 * each entry) with its backups beside it (`<run id>.backups/`, 0700, files
 * 0600): never in the configuration folders.
 *
 * A file entry carries the SHA-256 of what was there before and of what pgssl
 * writes, so an undo can tell "pgssl's bytes, restore them", "never written,
 * nothing to do" and "changed since by someone else, stop and show the diff".
 * A setting entry carries the postgresql.auto.conf value before (null: none),
 * so it is undone as a setting (ALTER SYSTEM SET back, or RESET), never by
 * restoring the whole file over later ALTER SYSTEMs.
 */
import { hostname } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { mkdirOwned, type FileOwner } from '../files/owner.js';

export interface FileEntry {
  kind: 'file';
  /** The path as configured (may be a symbolic link). */
  path: string;
  /** The regular file actually written (the link's target, or `path`). */
  target: string;
  existed: boolean;
  /** Copy of the previous content, inside this run's backup folder. */
  backup?: string;
  mode: number;
  uid: number;
  gid: number;
  beforeSha?: string;
  afterSha: string;
  why: string;
}

export interface SettingEntry {
  kind: 'setting';
  name: string;
  /** The value in postgresql.auto.conf before pgssl's ALTER SYSTEM; null when it had none. */
  before: string | null;
  /** What pgssl left there: a value, or null after ALTER SYSTEM RESET. */
  after: string | null;
}

export interface TerminatedEntry {
  kind: 'terminated';
  pid: number;
  what: string;
}

export type JournalEntry = FileEntry | SettingEntry | TerminatedEntry;

/**
 * in-progress: a run is changing the server (or died doing so: see `pid`);
 * applied: finished and kept; undoing: an undo or rollback is under way (or
 * died); undone/rolled-back: nothing of it is left; undo-failed: some of it
 * could not be undone (see notes).
 */
export type JournalStatus = 'in-progress' | 'applied' | 'undoing' | 'undone' | 'rolled-back' | 'undo-failed';

export interface ServerIdentity {
  systemIdentifier: string;
  dataDirectory: string;
  port: number;
}

/**
 * `enable --confirm-within`: the run reverts by itself at `deadline` unless
 * `pgssl confirm` marks it confirmed (src/flow/confirm/). Optional: journals
 * without it (every run before, and runs without the flag) read as before.
 */
export interface ConfirmWindow {
  state: 'pending' | 'confirmed' | 'reverted' | 'revert-failed';
  /** Absolute (ISO 8601): a clock that moves on while pgssl is dead still ends the window. */
  deadline: string;
  seconds: number;
  /** /proc/sys/kernel/random/boot_id when the window opened: another one means the host rebooted inside it. */
  bootId: string | null;
  /** What reverts it when nobody confirms: a systemd timer unit, or a detached process. */
  watchdog?: { kind: 'systemd'; unit: string } | { kind: 'process'; pid: number };
  /** When and why it was confirmed or reverted. */
  settledAt?: string;
  reason?: string;
}

export interface JournalData {
  version: 2;
  command: string;
  server: ServerIdentity;
  /** Who is (or was) running it: an in-progress journal of a dead process is unfinished. */
  pid: number;
  host: string;
  startedAt: string;
  status: JournalStatus;
  entries: JournalEntry[];
  /** Indexes of entries an undo has already dealt with (a killed rollback resumes after them). */
  undoneEntries: number[];
  notes: string[];
  confirm?: ConfirmWindow;
}

export class Journal {
  private constructor(
    readonly path: string,
    readonly data: JournalData,
    private readonly owner: FileOwner | undefined,
  ) {}

  static create(stateDir: string, command: string, server: ServerIdentity, owner?: FileOwner, now = new Date()): Journal {
    const dir = ensurePrivateDir(journalDir(stateDir, server.systemIdentifier), owner);
    const id = `${now.toISOString().replace(/[-:]/g, '')}-${command}`;
    const data: JournalData = { version: 2, command, server, pid: process.pid, host: hostname(), startedAt: now.toISOString(), status: 'in-progress', entries: [], undoneEntries: [], notes: [] };
    // Not saved until its first entry: a run killed before it registered anything leaves no journal, so
    // rollback never mistakes an empty run for the last one and undoes the run before it instead.
    return new Journal(join(dir, `${id}.json`), data, owner);
  }

  static load(path: string, owner?: FileOwner): Journal {
    const data = JSON.parse(readFileSync(path, 'utf8')) as JournalData;
    if (data.version !== 2) throw new Error(`${path} is a journal of an older pgssl (version ${data.version}); undo that run with the pgssl that made it`);
    data.undoneEntries ??= [];
    return new Journal(path, data, owner);
  }

  /** The folder that holds this run's backups (created on first use). */
  backupDir(): string {
    return ensurePrivateDir(this.path.replace(/\.json$/, '.backups'), this.owner);
  }

  get fileOwner(): FileOwner | undefined {
    return this.owner;
  }

  /** Registers a change before it happens. */
  record(entry: JournalEntry): void {
    this.data.entries.push(entry);
    this.save();
  }

  markUndone(index: number): void {
    if (!this.data.undoneEntries.includes(index)) this.data.undoneEntries.push(index);
    this.save();
  }

  note(text: string): void {
    this.data.notes.push(text);
    this.save();
  }

  /** Records (or updates) the confirm window, durably, before what it guards. */
  setConfirm(window: ConfirmWindow): void {
    this.data.confirm = window;
    this.save();
  }

  setStatus(status: JournalStatus): void {
    this.data.status = status;
    this.save();
  }

  /** True once anything that an undo must reverse was registered. */
  get changed(): boolean {
    return this.data.entries.some((e) => e.kind !== 'terminated');
  }

  private save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600, ...(this.owner ?? {}) });
    crashPointReached();
  }
}

function journalDir(stateDir: string, systemIdentifier: string): string {
  return join(stateDir, 'runs', systemIdentifier);
}

function ensurePrivateDir(dir: string, owner: FileOwner | undefined): string {
  return mkdirOwned(dir, owner);
}

/** Every journal of this server (same system identifier, data directory and port: standbys share the identifier), oldest first. */
export function journalsOf(stateDir: string, server: ServerIdentity, owner?: FileOwner): Journal[] {
  return journalsIn(journalDir(stateDir, server.systemIdentifier), owner).filter(
    (j) => j.data.server.dataDirectory === server.dataDirectory && j.data.server.port === server.port,
  );
}

/** Journals in a folder, oldest first; unreadable ones and those of older pgssl versions are skipped. */
export function journalsIn(dir: string, owner?: FileOwner): Journal[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const journals: Journal[] = [];
  for (const name of names) {
    try {
      journals.push(Journal.load(join(dir, name), owner));
    } catch {
      // A journal of another version or a torn write (impossible with atomic writes) is not ours to replay.
    }
  }
  return journals;
}

/** A run that stopped half-way: its process died while changing or undoing, or its undo failed. */
export function isUnfinished(journal: Journal, alive: (pid: number) => boolean = processAlive): boolean {
  const { status, pid, host } = journal.data;
  if (status === 'undo-failed') return journal.changed;
  if (status !== 'in-progress' && status !== 'undoing') return false;
  const running = host === hostname() && pid !== process.pid && alive(pid);
  return !running && (journal.changed || status === 'undoing');
}

/** The newest run of this server that an undo would act on: unfinished, or applied and not yet rolled back. */
export function latestUndoable(journals: Journal[]): Journal | undefined {
  for (const journal of [...journals].reverse()) {
    if (isUnfinished(journal)) return journal;
    if (journal.data.status === 'applied' && journal.changed) return journal;
  }
  return undefined;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Crash and signal testing (test/integration/crash.test.ts, lifecycle tests):
 * PGSSL_TEST_AFTER_JOURNAL_WRITE="N:SIGKILL" (or SIGTERM, SIGHUP, SIGINT) sends
 * that signal to this very process right after its N-th journal write, so
 * every position between "registered" and "done" is reached exactly, not by a
 * race. Unset in normal use; it can only stop pgssl, never change anything.
 */
let journalWrites = 0;
function crashPointReached(): void {
  const spec = process.env.PGSSL_TEST_AFTER_JOURNAL_WRITE;
  if (!spec) return;
  const [at, signal = 'SIGKILL'] = spec.split(':');
  if (++journalWrites === Number(at)) process.kill(process.pid, signal as NodeJS.Signals);
}
