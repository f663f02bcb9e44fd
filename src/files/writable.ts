/**
 * Can these files be written, before anything is? Each folder is probed with
 * a file created and removed at once (the only test that sees read-only
 * mounts, immutable folders and permissions alike, root included), each
 * existing file is opened for writing without truncating it (an immutable
 * file refuses), and the free space is compared with what will be written.
 * Changes nothing; returns every problem with its fix.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, openSync, statSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileSystemError } from './fileErrors.js';
import { messageOf } from '../errors.js';

export interface PlannedWrite {
  path: string;
  bytes: number;
  /** Missing folders will be created (the state folder): check the nearest existing one. */
  createFolders?: boolean;
}

export function checkWritable(writes: PlannedWrite[]): string[] {
  const problems: string[] = [];
  const byFolder = new Map<string, number>();
  for (const write of writes) {
    let folder = dirname(write.path);
    if (write.createFolders) while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
    byFolder.set(folder, (byFolder.get(folder) ?? 0) + write.bytes);
    if (existsSync(write.path) && !write.createFolders) {
      try {
        closeSync(openSync(write.path, constants.O_WRONLY));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // EACCES on the file alone does not stop a rename over it; the folder probe decides that.
        if (code !== 'EACCES') problems.push(messageOf(fileSystemError(error, write.path, 'write')));
      }
    }
  }
  for (const [folder, bytes] of byFolder) {
    let stat;
    try {
      stat = statSync(folder);
    } catch (error) {
      problems.push(messageOf(fileSystemError(error, folder, 'write into')));
      continue;
    }
    if (!stat.isDirectory()) {
      problems.push(`could not write into ${folder}: it is not a folder`);
      continue;
    }
    const probe = join(folder, `.pgssl-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
      unlinkSync(probe);
    } catch (error) {
      problems.push(messageOf(fileSystemError(error, folder, 'write into')));
      continue;
    }
    try {
      const fs = statfsSync(folder);
      const free = fs.bavail * fs.bsize;
      if (free < bytes + 64 * 1024) problems.push(`could not write into ${folder}: ${Math.round(free / 1024)} KB free, pgssl needs about ${Math.ceil((bytes + 64 * 1024) / 1024)} KB (ENOSPC): free some space, or choose another folder (--cert-dir)`);
    } catch {
      // statfs is not available everywhere; a full disk is then an error at write time, undone as any other.
    }
  }
  return problems;
}
