/**
 * pgssl's own folder for what must not live in the data directory (the CA's
 * private key) and for run journals: $PGSSL_STATE_DIR, else
 * $XDG_STATE_HOME/pgssl, else ~/.local/state/pgssl. Created 0700.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDirPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGSSL_STATE_DIR) return env.PGSSL_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'pgssl');
}

/** Creates the folder (and parents) if needed and makes sure only its owner can enter it. */
export function ensureStateDir(env: NodeJS.ProcessEnv = process.env, dir = stateDirPath(env)): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}
