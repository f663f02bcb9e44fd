/**
 * Who owns what pgssl writes. PostgreSQL wants its files owned by the data
 * directory's owner; when pgssl runs as root it chowns to that owner, so the
 * postgres OS user finds, reads and undoes everything root did (and the
 * other way round). As any other user, files are simply that user's.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FileOwner {
  uid: number;
  gid: number;
}

function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The owner new files get: the data directory's, when we may chown (root); else undefined (whoever we are). */
export function dataDirectoryOwner(dataDirectory: string): FileOwner | undefined {
  if (!runningAsRoot()) return undefined;
  const stat = statSync(dataDirectory);
  return { uid: stat.uid, gid: stat.gid };
}

/** chown when root and an owner is given; a no-op otherwise. */
export function chownIfRoot(path: string, owner: FileOwner | undefined): void {
  if (owner && runningAsRoot()) chownSync(path, owner.uid, owner.gid);
}

/** The home folder of a user id, from /etc/passwd (Node only knows the current user's). */
export function homeOfUid(uid: number, passwd = readPasswd()): string | undefined {
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 7 && Number(fields[2]) === uid) return fields[5] || undefined;
  }
  return undefined;
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}

/**
 * mkdir -p with mode 0700 for every folder it creates, each chowned to
 * `owner` when root: a root run must not leave root-owned folders in the
 * postgres user's home (it could not create its own state there later).
 */
export function mkdirOwned(dir: string, owner: FileOwner | undefined, mode = 0o700): string {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d, { mode });
    chownIfRoot(d, owner);
  }
  return dir;
}
