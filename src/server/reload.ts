/**
 * pg_reload_conf() is asynchronous: it only signals the postmaster. A *new*
 * backend inherits the postmaster's configuration, so the reload is proven by
 * a fresh session that shows a pg_conf_load_time() later than before the
 * signal. No fixed sleeps. Changes the running configuration; throws
 * OperationalError if the reload is not seen within the timeout.
 *
 * Fresh sessions cost a backend each (~25 ms here), so we first watch our own
 * session: the postmaster signals its children while it reloads (before it
 * re-reads pg_hba.conf and the TLS files), and it accepts connections only
 * between reloads. Once our backend shows the new load time, every later
 * connection is served by the reloaded postmaster. One new session then
 * confirms it, unless the caller's next step opens one anyway and checks
 * (see reloadSeenBy).
 */
import { OperationalError } from '../errors.js';
import { closeInBackground, openClient, type Client } from './connect.js';
import type { ConnectionTarget } from './connectionTarget.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Reload {
  waitedMs: number;
  /** New sessions opened to confirm it. */
  attempts: number;
  /** pg_conf_load_time() before the signal, in ms since the epoch. */
  loadedBefore: number;
}

export async function reloadAndWait(client: Client, target: ConnectionTarget, options: { timeoutMs?: number; confirmWithNewSession?: boolean } = {}): Promise<Reload> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  // One statement: the load time is read before the signal is sent.
  const { rows } = await client.query('SELECT pg_conf_load_time() AS loaded, pg_reload_conf()');
  const loadedBefore = (rows[0].loaded as Date).getTime();
  const signalled = Date.now();
  const expired = () => Date.now() - signalled >= timeoutMs;
  const timeout = () =>
    new OperationalError(`the server did not finish reloading its configuration within ${timeoutMs / 1000} s (pg_conf_load_time() did not move); check the server log`);
  // Our backend handles the postmaster's SIGHUP before its next statement.
  for (;;) {
    const [row] = (await client.query('SELECT pg_conf_load_time() AS loaded')).rows;
    if ((row.loaded as Date).getTime() > loadedBefore) break;
    if (expired()) throw timeout();
    await sleep(2);
  }
  if (options.confirmWithNewSession === false) return { waitedMs: Date.now() - signalled, attempts: 0, loadedBefore };
  const attempts = await confirmReload(target, loadedBefore, Math.max(0, timeoutMs - (Date.now() - signalled)));
  return { waitedMs: Date.now() - signalled, attempts, loadedBefore };
}

/** Opens new sessions until one runs the configuration loaded after `loadedBefore`; how many it took. */
export async function confirmReload(target: ConnectionTarget, loadedBefore: number, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  let attempts = 0;
  let delay = 5;
  while (Date.now() - started < timeoutMs) {
    attempts++;
    const probe = await openClient(target);
    try {
      if (await reloadSeenBy(probe, loadedBefore)) return attempts;
    } finally {
      closeInBackground(probe);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
  throw new OperationalError(`new sessions still run the configuration from before the reload after ${timeoutMs / 1000} s (pg_conf_load_time() did not move); check the server log`);
}

/** Whether this (new) session runs with the configuration loaded after `loadedBefore`. */
export async function reloadSeenBy(session: Client, loadedBefore: number): Promise<boolean> {
  const [row] = (await session.query('SELECT pg_conf_load_time() AS loaded')).rows;
  return (row.loaded as Date).getTime() > loadedBefore;
}
