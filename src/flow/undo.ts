/**
 * Undoes a journal in reverse: restores each file byte for byte (mode and
 * owner too) from its backup, removes files that did not exist, restores
 * postgresql.auto.conf, then reloads. A step that fails is reported and the
 * rest still runs (certbot's error handler does the same).
 */
import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../files/atomicWrite.js';
import type { Journal } from './journal.js';

export interface UndoResult {
  restored: string[];
  removed: string[];
  failures: string[];
  serverConfigTouched: boolean;
}

export function undoJournalFiles(journal: Journal): UndoResult {
  const result: UndoResult = { restored: [], removed: [], failures: [], serverConfigTouched: false };
  for (const entry of [...journal.data.entries].reverse()) {
    try {
      if (entry.kind === 'terminated') continue;
      if (entry.kind === 'server-config') result.serverConfigTouched = true;
      if (entry.kind === 'file' && !entry.existed) {
        rmSync(entry.path, { force: true });
        result.removed.push(entry.path);
        continue;
      }
      const backup = entry.backup!;
      const owner = process.getuid?.() === 0 ? { uid: entry.uid, gid: entry.gid } : {};
      writeFileAtomic(entry.path, readFileSync(backup), { mode: entry.mode!, ...owner });
      result.restored.push(entry.path);
    } catch (error) {
      result.failures.push(`${'path' in entry ? entry.path : ''}: ${(error as Error).message}`);
    }
  }
  return result;
}
