/**
 * Is this process on the server's host? postmaster.pid in the data directory
 * must name the same port and start time as the server we are connected to
 * (a different cluster, a container, or a remote server would not).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Locality = { local: true } | { local: false; reason: string } | { local: 'unknown'; reason: string };

export function checkLocality(dataDirectory: string | undefined, port: number, startEpoch: number): Locality {
  if (!dataDirectory) return { local: 'unknown', reason: 'the data directory is not visible to this role' };
  let text: string;
  try {
    text = readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') {
      return { local: 'unknown', reason: `${dataDirectory} is not readable by this OS user (run as the postgres OS user or root)` };
    }
    return { local: false, reason: `${join(dataDirectory, 'postmaster.pid')} does not exist here: pgssl is not running on the server's host` };
  }
  return comparePidFile(text, port, startEpoch);
}

/** postmaster.pid lines: pid, data dir, start time (epoch s), port, … (pidfile.h). */
export function comparePidFile(text: string, port: number, startEpoch: number): Locality {
  const lines = text.split('\n');
  const filePort = Number(lines[3]);
  const fileStart = Number(lines[2]);
  if (filePort !== port) {
    return { local: false, reason: `postmaster.pid names port ${filePort}, the server we talk to uses ${port}: a different server` };
  }
  // The file stores whole seconds taken just before pg_postmaster_start_time().
  if (!Number.isFinite(fileStart) || Math.abs(fileStart - startEpoch) > 2) {
    return { local: false, reason: 'postmaster.pid names another start time than the server we talk to: a different server' };
  }
  return { local: true };
}
