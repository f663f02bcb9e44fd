/**
 * A file-system error is the system's answer, not a bug: it becomes an
 * OperationalError that names the path, the cause and the fix.
 */
import { OperationalError } from '../errors.js';

const causes: Record<string, (path: string) => string> = {
  EACCES: (p) => `permission denied on ${p}: run pgssl as root or as the owner of that file and its folder`,
  EPERM: (p) => `the system refused the change to ${p} (an immutable file or folder? lsattr shows it; chattr -i clears it), or run pgssl as root`,
  EROFS: (p) => `${p} is on a read-only file system: remount it read-write, or choose another folder (--cert-dir)`,
  ENOSPC: (p) => `no space left on the device of ${p}: free some space, or choose another folder (--cert-dir)`,
  EDQUOT: (p) => `the disk quota is exhausted for ${p}: free some space or raise the quota`,
  ENOENT: (p) => `${p} (or its folder) does not exist`,
  ENOTDIR: (p) => `a part of ${p} is not a folder`,
  EISDIR: (p) => `${p} is a folder, not a file`,
  EBUSY: (p) => `${p} is busy (a mount point?)`,
};

/** The error of a failed file operation, as an OperationalError with the fix; other errors pass through. */
export function fileSystemError(error: unknown, path: string, action: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code ?? ((error as { cause?: NodeJS.ErrnoException })?.cause?.code);
  const explain = code ? causes[code] : undefined;
  if (!explain) return error;
  return new OperationalError(`could not ${action} ${path}: ${explain(path)} (${code})`, { cause: error });
}
