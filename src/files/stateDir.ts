/**
 * pgssl's own folder for what must not live in the data directory (the CA's
 * private key) and for run journals and their backups: $PGSSL_STATE_DIR, else
 * $XDG_STATE_HOME/pgssl, else ~/.local/state/pgssl. Created 0700.
 *
 * For a server, root and the data directory's owner must find the same runs
 * (enable as root, rollback as postgres): running as root against a data
 * directory owned by someone else, the folder is that owner's
 * (~owner/.local/state/pgssl) and everything in it is chowned to them.
 */
import { chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dataDirectoryOwner, homeOfUid, mkdirOwned, type FileOwner } from './owner.js';

export function stateDirPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGSSL_STATE_DIR) return env.PGSSL_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'pgssl');
}

export interface ServerStateDir {
  dir: string;
  /** Set when pgssl runs as root: what it writes there is chowned to the data directory's owner. */
  owner: FileOwner | undefined;
}

/** The state folder for a server's runs, the same whichever of root or the data directory's owner runs pgssl. */
export function serverStateDir(dataDirectory: string, env: NodeJS.ProcessEnv = process.env): ServerStateDir {
  const owner = dataDirectoryOwner(dataDirectory);
  if (env.PGSSL_STATE_DIR || !owner || owner.uid === 0) return { dir: stateDirPath(env), owner };
  const home = homeOfUid(owner.uid);
  return { dir: home ? join(home, '.local', 'state', 'pgssl') : stateDirPath(env), owner };
}

/** Creates the folder (and parents) if needed and makes sure only its owner can enter it. */
export function ensureStateDir(env: NodeJS.ProcessEnv = process.env, dir = stateDirPath(env), owner?: FileOwner): string {
  mkdirOwned(dir, owner);
  chmodSync(dir, 0o700);
  return dir;
}
