/**
 * `pgssl status` and confirm windows (enable --confirm-within): a window
 * that closed unconfirmed and that nobody reverted (the watchdog was killed,
 * or the host rebooted) is reverted here, before the audit, so the audit
 * shows the server as the DBA chose to leave it. This is the one change
 * status ever makes, and only one the DBA asked for in advance. When it
 * cannot (not a superuser, another run holds the lock), it is a finding.
 */
import { rollbackState } from '../flow/rollback.js';
import { journalsOf } from '../flow/journal.js';
import { settleConfirmWindows, type ConfirmWindows } from '../flow/confirm/settle.js';
import { isAwaitingConfirmation } from '../flow/confirm/window.js';
import { pgsslLockKey } from '../server/advisoryLock.js';
import type { Client } from '../server/connect.js';
import type { ConnectionTarget } from '../server/connectionTarget.js';
import { checkLocality } from '../server/locality.js';

/** Undefined when no run of this server waits for confirmation, or its journals are not on this host. */
export async function checkConfirmWindows(client: Client, target: ConnectionTarget, now: Date): Promise<ConfirmWindows | undefined> {
  const { rows } = await client.query(
    `SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, current_setting('data_directory', true) AS data_directory,
            current_setting('port')::int AS port, current_setting('is_superuser') = 'on' AS superuser,
            extract(epoch FROM pg_postmaster_start_time())::float8 AS started`,
  ).catch(() => ({ rows: [] as Record<string, unknown>[] }));
  const facts = rows[0];
  if (!facts?.data_directory || !facts.id) return undefined;
  const dataDirectory = String(facts.data_directory);
  // Journals live on the server's host: from anywhere else there is nothing to read.
  if (checkLocality(dataDirectory, Number(facts.port), Number(facts.started)).local !== true) return undefined;
  const server = { systemIdentifier: String(facts.id), dataDirectory, port: Number(facts.port) };
  const state = rollbackState(dataDirectory);
  if (!journalsOf(state.dir, server, state.owner).some(isAwaitingConfirmation)) return undefined;
  let locked = false;
  let mayRevert: true | string = 'reverting needs a superuser connection (ALTER SYSTEM and a reload)';
  if (facts.superuser) {
    const lock = await client.query('SELECT pg_try_advisory_lock($1, $2) AS locked', pgsslLockKey as unknown as number[]);
    locked = Boolean(lock.rows[0].locked);
    mayRevert = locked ? true : 'another pgssl run holds the run lock (the watchdog may be reverting it right now)';
  }
  try {
    return await settleConfirmWindows({ stateDir: state.dir, owner: state.owner, server, client, target, dataDirectory, mayRevert, now });
  } finally {
    if (locked) await client.query('SELECT pg_advisory_unlock($1, $2)', pgsslLockKey as unknown as number[]);
  }
}
