/**
 * Can every file the plan will write actually be written? Checked in step 1,
 * before any change (issue 13, defect 2): a read-only mount, an immutable
 * file, a folder this user may not write, a full disk or an unusable state
 * folder must stop the run before TLS is turned on, not half-way through.
 *
 * Changes nothing it checks: the only trace is a probe file created and
 * removed again in each folder (`.pgssl-write-check-<pid>-<random>`), which is
 * the one test that answers for permissions, immutable folders, read-only
 * mounts, ACLs and security modules alike.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, statSync, statfsSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { OperationalError } from '../errors.js';
import { causeAndFix, userNameOf } from './fileErrors.js';
import { throughLinks } from './linkTarget.js';

export interface PlannedWrite {
  /** A file pgssl will replace (temp file in the same folder + rename) or create; or, with `folder`, a folder it will create and use. */
  path: string;
  /** Size of the new content (0 for a folder). */
  bytes: number;
  /** Missing folders on the way will be created (pgssl's state folder, its runs/… folders): then the nearest existing one must be writable. */
  createFolders?: boolean;
  /** The path is a folder pgssl creates if missing and writes files in (the state folder). */
  folder?: boolean;
}

export type WriteProblemKind =
  | 'not-writable'
  | 'immutable'
  | 'read-only-file-system'
  | 'no-space'
  | 'quota'
  | 'missing-folder'
  | 'not-a-folder'
  | 'is-a-folder'
  | 'not-a-regular-file'
  | 'busy'
  | 'other';

export interface WriteProblem {
  /** The planned path the problem is about. */
  path: string;
  kind: WriteProblemKind;
  cause: string;
  fix: string;
}

const kindOfCode: Record<string, WriteProblemKind> = {
  EACCES: 'not-writable',
  EPERM: 'immutable',
  EROFS: 'read-only-file-system',
  ENOSPC: 'no-space',
  EDQUOT: 'quota',
  ENOENT: 'missing-folder',
  ENOTDIR: 'not-a-folder',
  EISDIR: 'is-a-folder',
  EBUSY: 'busy',
};

/** Every problem that would stop these writes, all at once (empty: all can be written). Changes nothing (see the module comment). */
export function findWriteProblems(writes: PlannedWrite[]): WriteProblem[] {
  const problems: (WriteProblem & { order: number })[] = [];
  const probes = new Map<string, NodeJS.ErrnoException | undefined>();
  const space = new Map<number, SpaceNeed>();

  for (const [order, write] of writes.entries()) {
    const target = throughLinks(write.path);
    const add = (kind: WriteProblemKind, code: string | undefined, at: { about?: string; folder?: string; message?: string; note?: string } = {}) => {
      const { cause, fix } = causeAndFix(code, at.about ?? target, at.message, at.folder);
      const link = target === resolve(write.path) ? '' : ` (${write.path} is a link to ${target})`;
      problems.push({ order, path: write.path, kind, cause: `${cause}${at.note ?? ''}${link}`, fix });
    };

    // The folder the temp file and the rename happen in: for a planned folder, the folder itself.
    const wanted = write.folder ? target : dirname(target);
    const existing = write.createFolders || write.folder ? nearestExisting(wanted) : wanted;
    const folderStat = statOrError(existing);
    if (folderStat instanceof Error) {
      if (folderStat.code === 'ENOENT') {
        problems.push({ order, path: write.path, kind: 'missing-folder', cause: `the folder ${wanted} does not exist`, fix: `create it (owned by the user that should own the file) or choose another folder` });
      } else {
        add(kindOfCode[folderStat.code ?? ''] ?? 'other', folderStat.code, { about: wanted, folder: dirname(existing), message: folderStat.message });
      }
      continue;
    }
    if (!folderStat.isDirectory()) {
      add('not-a-folder', 'ENOTDIR', { about: wanted, note: ` (${existing} is a file)` });
      continue;
    }

    if (!write.folder) {
      const fileProblem = existingFileProblem(target);
      if (fileProblem) {
        add(fileProblem.kind, fileProblem.code, { message: `${target} is not a regular file (a device, FIFO or socket), which pgssl will not replace` });
        continue;
      }
    }

    if (!probes.has(existing)) probes.set(existing, probeFolder(existing));
    const probeError = probes.get(existing);
    if (probeError) {
      add(kindOfCode[probeError.code ?? ''] ?? 'other', probeError.code, { about: write.folder ? wanted : target, folder: existing, message: probeError.message });
      continue;
    }
    const stickyOwner = write.folder ? undefined : stickyOwnedByOther(target, folderStat);
    if (stickyOwner !== undefined) {
      const owner = userNameOf(stickyOwner) ?? `uid ${stickyOwner}`;
      problems.push({
        order,
        path: write.path,
        kind: 'not-writable',
        cause: `${target} belongs to ${owner} and its folder ${existing} has the sticky bit (like /tmp): only the file's owner, the folder's owner or root may replace it`,
        fix: owner === 'root' ? 'run pgssl as root' : `run pgssl as ${owner} or root`,
      });
      continue;
    }

    const need = space.get(folderStat.dev) ?? { folder: existing, writes: [], bytes: 0, files: 0 };
    need.writes.push({ order, path: write.path });
    need.bytes += write.bytes;
    need.files += 1 + (existing === wanted ? 0 : depthBetween(existing, wanted));
    space.set(folderStat.dev, need);
  }

  for (const need of space.values()) problems.push(...spaceProblems(need));
  // In the order of the plan, whatever check found them.
  return problems.sort((a, b) => a.order - b.order).map(({ order: _order, ...problem }) => problem);
}

/** findWriteProblems, as one OperationalError listing every problem; returns when there is none. */
export function assertWritable(writes: PlannedWrite[]): void {
  const problems = findWriteProblems(writes);
  if (problems.length === 0) return;
  throw new OperationalError(describeWriteProblems(problems));
}

export function describeWriteProblems(problems: WriteProblem[]): string {
  const lines = problems.map((p) => `  - ${p.path}: ${p.cause}. Fix: ${p.fix}.`);
  return `pgssl cannot write ${problems.length === 1 ? 'a file' : `${problems.length} files`} it needs, so it changed nothing:\n${lines.join('\n')}`;
}

function nearestExisting(path: string): string {
  let current = path;
  for (;;) {
    try {
      lstatSync(current);
      return current;
    } catch (error) {
      // A folder on the way that we may not even look into: report it there.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return current;
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

function depthBetween(ancestor: string, descendant: string): number {
  return descendant.slice(ancestor.length).split('/').filter(Boolean).length;
}

function statOrError(path: string): Stats | NodeJS.ErrnoException {
  try {
    return statSync(path);
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
}

/**
 * An existing file that cannot be replaced although its folder can be
 * written: immutable or append-only (rename over it fails with EPERM), or not
 * a regular file. Opening for writing without O_TRUNC is how the kernel says
 * so without changing a byte; EACCES alone is no problem (the rename only
 * needs the folder).
 */
function existingFileProblem(path: string): { kind: WriteProblemKind; code: string | undefined } | undefined {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch {
    return undefined; // a new file
  }
  if (stat.isDirectory()) return { kind: 'is-a-folder', code: 'EISDIR' };
  if (!stat.isFile()) return { kind: 'not-a-regular-file', code: undefined };
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPERM') return { kind: 'immutable', code };
    if (code === 'EROFS') return { kind: 'read-only-file-system', code };
    if (code === 'EBUSY' || code === 'ETXTBSY') return { kind: 'busy', code: 'EBUSY' };
  }
  return undefined;
}

/** Creates and removes a probe file in `folder`; the error that stopped it, if any. */
function probeFolder(folder: string): NodeJS.ErrnoException | undefined {
  const probe = join(folder, `.pgssl-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  let created = false;
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
    created = true;
    return undefined;
  } catch (error) {
    return error as NodeJS.ErrnoException;
  } finally {
    if (created) {
      try {
        unlinkSync(probe);
      } catch (error) {
        // Not expected (we just created it), but never leave it unsaid.
        return Object.assign(new Error(`pgssl created ${probe} to test the folder and could not remove it (${(error as Error).message}); remove it by hand`), { code: undefined });
      }
    }
  }
}

/** In a sticky folder (like /tmp) only the owner of a file, of the folder, or root may rename over it: the other owner's uid, if that stops us. */
function stickyOwnedByOther(path: string, folder: Stats): number | undefined {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0 || (folder.mode & 0o1000) === 0 || folder.uid === uid) return undefined;
  try {
    const owner = statSync(path).uid;
    return owner === uid ? undefined : owner;
  } catch {
    return undefined; // a new file
  }
}

/**
 * Room for the new files on one file system: the temp copy exists beside the
 * old file until the rename, so the whole new size is needed, rounded up to
 * blocks, plus an inode each. Root may use the blocks reserved for it.
 */
interface SpaceNeed {
  folder: string;
  writes: { order: number; path: string }[];
  bytes: number;
  files: number;
}

function spaceProblems(need: SpaceNeed): (WriteProblem & { order: number })[] {
  let fs;
  try {
    fs = statfsSync(need.folder);
  } catch {
    return []; // the probe already passed; a file system without statfs is not a reason to stop
  }
  const blockSize = fs.bsize || 4096;
  const neededBlocks = Math.ceil(need.bytes / blockSize) + need.files;
  const freeBlocks = process.getuid?.() === 0 ? fs.bfree : fs.bavail;
  const { cause, fix } = causeAndFix('ENOSPC', need.folder, '', need.folder);
  let detail: string | undefined;
  if (neededBlocks > freeBlocks) {
    detail = `${cause}: ${need.writes.length === 1 ? 'it needs' : `the ${need.writes.length} files there need`} ${formatBytes(neededBlocks * blockSize)}, ${formatBytes(freeBlocks * blockSize)} free`;
  } else if (fs.files > 0 && need.files > fs.ffree) {
    detail = `${cause}: no free inodes (${fs.ffree} left, ${need.files} needed)`;
  }
  return detail ? need.writes.map(({ order, path }) => ({ order, path, kind: 'no-space' as const, cause: detail, fix })) : [];
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
