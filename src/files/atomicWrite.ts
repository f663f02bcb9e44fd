/**
 * Atomic file replacement: a temp file in the same folder, created with its
 * final mode from the first byte (keys are never readable by others, not even
 * for a moment), fsync, chown when asked, rename over the target, fsync the
 * folder. A reader sees the old file or the new one, never half of either.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { throughLinks } from './linkTarget.js';
import { basename, dirname, join } from 'node:path';

export interface WriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

/** Content produced piece by piece (see RewrittenFile.stream): never held whole in memory. */
export interface StreamedContent {
  stream(sink: (bytes: Buffer, length: number) => void): void;
}

/** Writes `data` to `path` atomically. Throws with the path in the message; leaves no temp file behind. */
export function writeFileAtomic(givenPath: string, data: string | Buffer | StreamedContent, options: WriteOptions): void {
  syncDirectory(replaceFile(givenPath, data, options));
}

/**
 * Several files, each atomically as writeFileAtomic does and in this order,
 * with one folder fsync per folder at the end instead of one per file: for
 * files that belong together (client-cert's key, PKCS#8 key and certificate).
 * A crash before the end may keep some of the new files and not others.
 */
export function writeFilesAtomic(files: { path: string; data: string | Buffer; options: WriteOptions }[]): void {
  const folders = new Set(files.map((file) => replaceFile(file.path, file.data, file.options)));
  for (const folder of folders) syncDirectory(folder);
}

/** The temp file, its fsync and the rename; returns the folder whose entry changed. */
function replaceFile(givenPath: string, data: string | Buffer | StreamedContent, options: WriteOptions): string {
  const path = writeTarget(givenPath);
  const temp = join(dirname(path), `.${basename(path)}.pgssl-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode);
    fchmodSync(fd, options.mode); // the umask may have narrowed it; never widened
    if (options.uid !== undefined && options.gid !== undefined) fchownSync(fd, options.uid, options.gid);
    writeContent(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {}
    throw new Error(`could not write ${path === givenPath ? path : `${givenPath} (a link to ${path})`}: ${(error as Error).message}`, { cause: error });
  }
  return dirname(path);
}

export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}

/** Writes all of `data` at fd's position (writeSync may write less than asked). */
export function writeContent(fd: number, data: string | Buffer | StreamedContent): void {
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    writeAll(fd, bytes, bytes.length);
  } else {
    data.stream((bytes, length) => writeAll(fd, bytes, length));
  }
}

function writeAll(fd: number, bytes: Buffer, length: number): void {
  let offset = 0;
  while (offset < length) offset += writeSync(fd, bytes, offset, length - offset);
}

/** The regular file that a write to `path` must replace: the final target of a link, or `path` itself. */
export function writeTarget(path: string): string {
  return throughLinks(path);
}

const tempName = /^\..+\.pgssl-(?:(\d+)-)?[0-9a-f]{12}\.tmp$/;

/**
 * Removes temp files that runs killed half-way left in these folders (their
 * pid is gone; names without a pid are from pgssl before 0.2). Returns what
 * it removed. Never touches a live run's temp file.
 */
export function removeStaleTempFiles(dirs: Iterable<string>, alive: (pid: number) => boolean): string[] {
  const removed: string[] = [];
  for (const dir of new Set(dirs)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = tempName.exec(name);
      if (!match || (match[1] && alive(Number(match[1])))) continue;
      try {
        unlinkSync(join(dir, name));
        removed.push(join(dir, name));
      } catch {
        // Not ours to remove (permissions): the next run as the owner will.
      }
    }
  }
  return removed;
}
