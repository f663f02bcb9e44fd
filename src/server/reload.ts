/**
 * pg_reload_conf() is asynchronous: it only signals the postmaster. A *new*
 * backend inherits the postmaster's configuration, so we open fresh
 * connections until one shows a pg_conf_load_time() later than before the
 * signal. No fixed sleeps. Changes the running configuration; throws
 * OperationalError if the reload is not seen within the timeout.
 */
import { OperationalError } from '../errors.js';
import { openClient, type Client } from './connect.js';
import type { ConnectionTarget } from './connectionTarget.js';

export async function reloadAndWait(client: Client, target: ConnectionTarget, timeoutMs = 15_000): Promise<{ waitedMs: number; attempts: number }> {
  const { rows } = await client.query('SELECT pg_conf_load_time() AS loaded, clock_timestamp() AS now');
  const before: Date = rows[0].loaded;
  const signalled = Date.now();
  await client.query('SELECT pg_reload_conf()');
  let attempts = 0;
  let delay = 5;
  while (Date.now() - signalled < timeoutMs) {
    attempts++;
    const probe = await openClient(target);
    try {
      const [row] = (await probe.query('SELECT pg_conf_load_time() AS loaded')).rows;
      if ((row.loaded as Date).getTime() > before.getTime()) return { waitedMs: Date.now() - signalled, attempts };
    } finally {
      await probe.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
  throw new OperationalError(`the server did not finish reloading its configuration within ${timeoutMs / 1000} s (pg_conf_load_time() did not move); check the server log`);
}
