/**
 * Backups before any change: a byte-identical copy with the same mode and
 * owner, next to the original, named so that PostgreSQL's include_dir (which
 * reads *.conf) never picks it up.
 */
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from './atomicWrite.js';

export interface Backup {
  original: string;
  backup: string;
  mode: number;
  uid: number;
  gid: number;
}

export function backupName(path: string, when: Date): string {
  return `${path}.pgssl-${when.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.bak`;
}

/** Copies `path` to a new backup file; throws if the original cannot be read. */
export function backupFile(path: string, when = new Date()): Backup {
  const stat = statSync(path);
  const content = readFileSync(path);
  let backup = backupName(path, when);
  for (let n = 2; exists(backup); n++) backup = backupName(path, when).replace(/\.bak$/, `-${n}.bak`);
  const mode = stat.mode & 0o7777;
  writeFileAtomic(backup, content, { mode, uid: stat.uid, gid: stat.gid });
  return { original: path, backup, mode, uid: stat.uid, gid: stat.gid };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
