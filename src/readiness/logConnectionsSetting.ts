/**
 * Whether log_connections writes the entries readiness needs, and the one
 * statement that would turn them on. Pure.
 *
 * Up to 17 it is a boolean. 18 makes it a list of aspects (receipt,
 * authentication, authorization, setup_durations, or all); `on` still means
 * receipt,authentication,authorization. Readiness needs authorization (who,
 * which database, TLS) and receipt (the address, unless log_line_prefix has
 * %h or %r). log_connections is PGC_SU_BACKEND: a reload applies it to new
 * connections, no restart.
 */

const booleanOn = new Set(['on', 'true', 'yes', '1']);

export interface LogConnectionsState {
  /** Authorization entries are written. */
  logsAuthorization: boolean;
  /** Receipt entries (the address) are written. */
  logsReceipt: boolean;
  /** ALTER SYSTEM … then reload, when something is missing; never run by pgssl readiness. */
  turnOn?: string[];
}

export function logConnectionsState(major: number, value: string, prefixHasHost: boolean): LogConnectionsState {
  const normalised = value.trim().toLowerCase();
  if (major < 18) {
    const on = booleanOn.has(normalised);
    return { logsAuthorization: on, logsReceipt: on, turnOn: on ? undefined : ['ALTER SYSTEM SET log_connections = on;', 'SELECT pg_reload_conf();'] };
  }
  const aspects = booleanOn.has(normalised)
    ? ['receipt', 'authentication', 'authorization']
    : normalised === '' || normalised === 'off' || normalised === 'false' || normalised === 'no' || normalised === '0'
      ? []
      : normalised.split(',').map((a) => a.trim()).filter(Boolean);
  const all = aspects.includes('all');
  const logsAuthorization = all || aspects.includes('authorization');
  const logsReceipt = all || aspects.includes('receipt');
  const needed = ['receipt', 'authorization'].filter((a) => !all && !aspects.includes(a) && !(a === 'receipt' && prefixHasHost));
  if (needed.length === 0) return { logsAuthorization, logsReceipt };
  // Keep what is logged today (e.g. setup_durations) and add what is missing.
  const wanted = [...aspects, ...needed];
  return { logsAuthorization, logsReceipt, turnOn: [`ALTER SYSTEM SET log_connections = '${wanted.join(',')}';`, 'SELECT pg_reload_conf();'] };
}

/** %h or %r in log_line_prefix puts the client's address on every entry of the backend. */
export function prefixNamesHost(prefix: string): boolean {
  return /%-?\d*[hr]/.test(prefix.replace(/%%/g, ''));
}
