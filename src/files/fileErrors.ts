/**
 * Every file-system error becomes an OperationalError that names the path,
 * the cause and the fix — never "unexpected error … a bug in pgssl". The
 * engine wraps each file operation with `withFileErrors`; the preconditions
 * check (preconditions.ts) words its problems with the same causes and fixes.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { OperationalError, PgsslError, messageOf } from '../errors.js';

/** The errno codes a DBA can do something about, each with its cause and fix. */
export const fileErrorCodes = ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EBUSY'] as const;
export type FileErrorCode = (typeof fileErrorCodes)[number];

export interface CauseAndFix {
  cause: string;
  fix: string;
}

/** Cause and fix for `code` on `path`, in the DBA's words. Pure but for finding the mount point (EROFS) and the user name. */
export function causeAndFix(code: string | undefined, path: string, message = '', folder = dirname(path)): CauseAndFix {
  const user = currentUserName();
  switch (code) {
    case 'EACCES':
      return {
        cause: `permission denied: the OS user ${user} may not change ${path} (writing needs write and search permission on ${folder})`,
        fix: `run pgssl as root (sudo pgssl …) or as the owner of ${folder}${ownerHint(folder)}`,
      };
    case 'EPERM':
      return {
        cause: `operation not permitted on ${path}: the file or its folder is immutable or append-only (lsattr -d ${path} ${folder} shows an "i" or "a"), or it belongs to another user in a folder with the sticky bit`,
        fix: `remove the flag with chattr -i (or -a) on the file and its folder if it was not set on purpose, or run pgssl as the file's owner or root`,
      };
    case 'EROFS':
      return {
        cause: `the file system holding ${path} is mounted read-only`,
        fix: `remount it read-write (mount -o remount,rw ${mountPointOf(path)}) or choose another folder (--cert-dir for certificates, PGSSL_STATE_DIR for pgssl's state)`,
      };
    case 'ENOSPC':
      return {
        cause: `no space left on the device holding ${path}`,
        fix: `free space there (df -h ${folder}; df -i for inodes) or choose another folder (--cert-dir for certificates, PGSSL_STATE_DIR for pgssl's state)`,
      };
    case 'EDQUOT':
      return {
        cause: `the disk quota of the OS user ${user} is exhausted on the file system holding ${path}`,
        fix: `free space within the quota (quota -s) or have it raised, or choose another folder`,
      };
    case 'ENOENT':
      return {
        cause: `${path} does not exist (or a folder on the way to it is missing)`,
        fix: `create ${folder} or give the right path`,
      };
    case 'ENOTDIR':
      return {
        cause: `a part of ${path} that must be a folder is a file`,
        fix: `give a path whose folders are folders, or move the file that is in the way`,
      };
    case 'EISDIR':
      return {
        cause: `${path} is a folder where pgssl expects a file`,
        fix: `give the path of the file itself, or move the folder out of the way`,
      };
    case 'EBUSY':
      return {
        cause: `${path} is busy (a mount point, or a file the system holds open exclusively)`,
        fix: `give a path that is not a mount point (a bind-mounted single file cannot be replaced by rename: mount its folder instead), or try again when it is no longer in use`,
      };
    default:
      return {
        cause: message || `the operation failed${code ? ` (${code})` : ''}`,
        fix: `check the path, its folder and the file system it lives on, then run pgssl again`,
      };
  }
}

/**
 * The OperationalError for a failed file operation. `action` is what pgssl
 * was doing, as a verb phrase ("write", "back up", "create the state folder").
 * A PgsslError passes through unchanged.
 */
export function fileSystemError(error: unknown, action: string, path?: string): PgsslError {
  if (error instanceof PgsslError) return error;
  // Wrappers such as writeFileAtomic's "could not write …" keep the errno on their cause.
  const errno = withErrnoCode(error);
  const where = path ?? errno?.path ?? '(unknown path)';
  const { cause, fix } = causeAndFix(errno?.code, where, stripCodePrefix(messageOf(errno ?? error)));
  return new OperationalError(`could not ${action} ${where}: ${cause}. Fix: ${fix}.`, { cause: error });
}

/** The error itself or the first cause down its chain that carries an errno code. */
function withErrnoCode(error: unknown): NodeJS.ErrnoException | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 10; current = (current as { cause?: unknown }).cause, depth++) {
    if (typeof (current as NodeJS.ErrnoException).code === 'string') return current as NodeJS.ErrnoException;
  }
  return undefined;
}

/** Runs `work` (sync or async); any file-system error becomes fileSystemError(error, action, path). */
export function withFileErrors<T>(action: string, path: string, work: () => T): T {
  let result: T;
  try {
    result = work();
  } catch (error) {
    throw fileSystemError(error, action, path);
  }
  if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(fileSystemError(error, action, path))) as T;
  return result;
}

/** Node messages read "EACCES: permission denied, open '/x'": keep only the readable part. */
function stripCodePrefix(message: string): string {
  return message.replace(/^E[A-Z]+: /, '');
}

function currentUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

function ownerHint(folder: string): string {
  try {
    const uid = statSync(folder).uid;
    const name = userNameOf(uid);
    return name ? ` (${name}: sudo -u ${name} pgssl …)` : ` (uid ${uid})`;
  } catch {
    return '';
  }
}

/** The OS user name of `uid` from /etc/passwd, or undefined. */
export function userNameOf(uid: number): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (Number(id) === uid && name) return name;
    }
  } catch {}
  return undefined;
}

/** The mount point holding `path` (or its nearest existing ancestor): the last folder upwards on the same device. */
export function mountPointOf(path: string): string {
  let current = path;
  let device: number | undefined;
  for (;;) {
    try {
      device = statSync(current).dev;
      break;
    } catch {
      const parent = dirname(current);
      if (parent === current) return '/';
      current = parent;
    }
  }
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return current;
    try {
      if (statSync(parent).dev !== device) return current;
    } catch {
      return current;
    }
    current = parent;
  }
}
