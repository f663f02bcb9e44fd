/**
 * One pgssl run per server at a time: a session-level advisory lock held by
 * the admin connection for the whole run (released when it closes, even on
 * kill -9). Throws OperationalError when another run holds it.
 */
import { OperationalError } from '../errors.js';
import type { Client } from './connect.js';

/** hashtext('pgssl') is not stable across majors; a fixed key is. */
export const pgsslLockKey = [0x70677373, 0x6c] as const; // "pgss", "l"

export async function takeRunLock(client: Client): Promise<void> {
  const { rows } = await client.query('SELECT pg_try_advisory_lock($1, $2) AS locked', pgsslLockKey as unknown as number[]);
  if (!rows[0].locked) {
    const holder = await client.query(
      `SELECT a.pid, a.usename, a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.granted`,
      pgsslLockKey as unknown as number[],
    );
    const who = holder.rows[0] ? ` (pid ${holder.rows[0].pid}, user ${holder.rows[0].usename}, application "${holder.rows[0].application_name}")` : '';
    throw new OperationalError(`another pgssl run is working on this server${who}; nothing was changed. Wait for it to finish, then run again.`);
  }
}
