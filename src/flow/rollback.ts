/**
 * `pgssl rollback`'s core: which run to undo, and undoing it through the one
 * undo path, online or with the server down. Returns data; the command
 * renders it and asks when files or settings changed since pgssl wrote them.
 */
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OperationalError, UsageError } from '../errors.js';
import { serverStateDir, stateDirPath, type ServerStateDir } from '../files/stateDir.js';
import { dataDirectoryOwner } from '../files/owner.js';
import { journalsIn, journalsOf, latestUndoable, processAlive, type Journal, type ServerIdentity } from './journal.js';
import type { ReportedError } from './report.js';
import { undoJournal, type ConflictResolution, type UndoResult, type UndoServer } from './undo.js';

export interface RollbackReport {
  pgssl: { command: 'rollback'; reportVersion: 1 };
  ok: boolean;
  changed: boolean;
  rolledBack: boolean;
  offline: boolean;
  journal?: string;
  run?: { command: string; startedAt: string; status: string };
  undo?: UndoResult;
  /** Other state folders that hold runs of this server (root's and postgres' before 0.2, or another PGSSL_STATE_DIR). */
  elsewhere: string[];
  exitCode: number;
  error?: ReportedError;
  nextSteps: string[];
}

export function emptyRollbackReport(offline: boolean): RollbackReport {
  return { pgssl: { command: 'rollback', reportVersion: 1 }, ok: false, changed: false, rolledBack: false, offline, elsewhere: [], exitCode: 0, nextSteps: [] };
}

/** The state folder for this server, as enable chose it. */
export function rollbackState(dataDirectory: string): ServerStateDir {
  return process.env.PGSSL_STATE_DIR ? { dir: process.env.PGSSL_STATE_DIR, owner: dataDirectoryOwner(dataDirectory) } : serverStateDir(dataDirectory);
}

/** State folders other than `state` where runs of this server may have been left (an older pgssl kept them per OS user). */
function otherStateDirs(state: ServerStateDir, dataDirectory: string): string[] {
  const owners = { ...process.env, PGSSL_STATE_DIR: '' };
  const candidates = new Set([stateDirPath(), serverStateDir(dataDirectory, owners).dir, stateDirPath(owners), join(homedir(), '.local', 'state', 'pgssl')]);
  candidates.delete(state.dir);
  return [...candidates].filter((dir) => existsSync(join(dir, 'runs')));
}

export function findRunToUndo(state: ServerStateDir, server: ServerIdentity): { journal?: Journal; elsewhere: string[] } {
  const journal = latestUndoable(journalsOf(state.dir, server, state.owner));
  if (journal) return { journal, elsewhere: [] };
  const elsewhere = otherStateDirs(state, server.dataDirectory).filter((dir) => latestUndoable(journalsOf(dir, server)) !== undefined);
  return { elsewhere };
}

/** Offline: the runs of the server whose data directory this is, whatever its port was. */
export function findRunToUndoOffline(state: ServerStateDir, dataDirectory: string): { journal?: Journal; elsewhere: string[] } {
  const mine = (dir: string) => {
    const runs = join(dir, 'runs');
    let servers: string[] = [];
    try {
      servers = readdirSync(runs);
    } catch {
      return undefined;
    }
    const journals = servers.flatMap((id) => journalsIn(join(runs, id), state.owner)).filter((j) => j.data.server.dataDirectory === dataDirectory);
    return latestUndoable(journals.sort((a, b) => a.data.startedAt.localeCompare(b.data.startedAt)));
  };
  const journal = mine(state.dir);
  if (journal) return { journal, elsewhere: [] };
  return { elsewhere: otherStateDirs(state, dataDirectory).filter((dir) => mine(dir) !== undefined) };
}

/** The data directory given with -D, checked: it exists, and no postmaster runs on it. */
export function stoppedDataDirectory(given: string): string {
  let dir: string;
  try {
    dir = realpathSync(given);
  } catch {
    throw new UsageError(`-D ${given}: no such data directory`);
  }
  if (!existsSync(join(dir, 'PG_VERSION'))) throw new UsageError(`-D ${given}: not a PostgreSQL data directory (no PG_VERSION)`);
  const pidFile = join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pid > 0 && processAlive(pid)) {
      throw new OperationalError(`the server on ${dir} is running (postmaster pid ${pid}); nothing was changed. pgssl rollback -D is for a stopped server: run pgssl rollback without -D, connected to it.`);
    }
  }
  return dir;
}

export async function undoRun(journal: Journal, server: UndoServer, resolution: ConflictResolution): Promise<UndoResult> {
  return undoJournal(journal, server, { resolution, finalStatus: 'rolled-back' });
}
