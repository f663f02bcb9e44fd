/**
 * Turns a failed connection into one paragraph that names the cause and the
 * fix. Pure: takes the error and the target, returns an OperationalError.
 */
import { userInfo } from 'node:os';
import { OperationalError, messageOf, pgErrorFields } from '../errors.js';
import { describeTarget, isSocketHost, type ConnectionTarget } from './connectionTarget.js';

/**
 * The server asked for a password and pgssl had none to give (no PGPASSWORD,
 * no ~/.pgpass line, no terminal). Thrown by the password callback, so its
 * presence proves the server got as far as asking.
 */
export class PasswordRequired extends Error {
  override name = 'PasswordRequired';
  constructor() {
    super('password authentication is required and no password was supplied');
  }
}

/**
 * How far a failed login got. PostgreSQL picks the first pg_hba.conf rule that
 * matches and only then authenticates with that rule's method ("The
 * pg_hba.conf File"), so a demand for a password, or a refused one, proves
 * that a rule let the connection through pg_hba.conf.
 * - password-required: asked for a password, pgssl had none
 * - password-refused: a password was given and refused (28P01)
 * - refused-no-encryption: no rule for a plain connection ("no encryption" from 14, "SSL off" before)
 * - no-hba-entry: no rule for this connection even with TLS
 * - hba-reject: a `reject` rule matched
 * - channel-binding: SCRAM channel binding (tls-server-end-point) failed, as it fails for libpq clients
 */
export type LoginFailure = 'password-required' | 'password-refused' | 'refused-no-encryption' | 'no-hba-entry' | 'hba-reject' | 'channel-binding' | 'other';

export function classifyLoginFailure(error: unknown): LoginFailure {
  const chain: unknown[] = [];
  for (let e: unknown = error; e !== undefined && e !== null && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  const text = chain.map(messageOf).join(' | ');
  const codes = chain.map((e) => pgErrorFields(e)?.code);
  // node-pg's own words when SCRAM starts without a password (a password callback that gave none).
  if (chain.some((e) => e instanceof PasswordRequired) || /password authentication is required|client password must be a string/i.test(text)) return 'password-required';
  if (codes.includes('28P01') || /password authentication failed/i.test(text)) return 'password-refused';
  if (/no pg_hba\.conf entry/i.test(text)) return /no encryption|SSL off/.test(text) ? 'refused-no-encryption' : 'no-hba-entry';
  if (/pg_hba\.conf rejects connection/i.test(text)) return 'hba-reject';
  // The server's (be_tls_get_certificate_hash) and node-pg's words when the certificate's signature has no usable hash.
  if (/channel binding|could not find digest for NID|certificate signature algorithm/i.test(text)) return 'channel-binding';
  return 'other';
}

/** The failures that prove a rule matched in pg_hba.conf: the server went on to authenticate. */
export function passedHba(failure: LoginFailure): boolean {
  return failure === 'password-required' || failure === 'password-refused';
}

export function explainConnectionError(error: unknown, target: ConnectionTarget): OperationalError {
  const where = describeTarget(target);
  const code = (error as { code?: string } | undefined)?.code;
  const message = messageOf(error);
  const pg = pgErrorFields(error);

  if (code === 'ENOENT' && isSocketHost(target.host)) {
    const tried = target.socketDirsTried
      ? `No server socket for port ${target.port} was found in ${target.socketDirsTried.join(' or ')}.`
      : `There is no server socket at ${where}.`;
    return new OperationalError(
      `could not connect to the server: ${tried} Is the server running (pg_lsclusters, systemctl status postgresql), and on this port? Give the right one with -p PORT, the socket directory with -h DIR, or a TCP address with -h HOST.`,
      { cause: error },
    );
  }
  if (code === 'ECONNREFUSED') {
    return new OperationalError(
      `could not connect to the server at ${where}: connection refused. Is the server running and listening on that address and port? Check that the server is up (pg_lsclusters, systemctl status postgresql), its listen_addresses and port settings, and the -h/-p you gave.`,
      { cause: error },
    );
  }
  if (code === 'EACCES' && isSocketHost(target.host)) {
    return new OperationalError(
      `could not connect to the server: permission denied on ${where}. Run pgssl as a user allowed to use the socket, usually the postgres OS user: sudo -u postgres pgssl …`,
      { cause: error },
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new OperationalError(`could not connect to the server: the host name "${target.host}" could not be resolved. Check -h or PGHOST.`, { cause: error });
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new OperationalError(`could not connect to the server at ${where}: ${message}. Is the address right and reachable from here?`, { cause: error });
  }
  if (pg?.code === '28P01') {
    return new OperationalError(
      `password authentication failed for user "${target.user}" at ${where}. Give the right password through PGPASSWORD, ${target.passfile}, or -W to be asked; or run pgssl on the database host as the postgres OS user (sudo -u postgres pgssl …), which local "peer" authentication lets in without a password.`,
      { cause: error },
    );
  }
  if (pg?.code === '28000' && /peer authentication failed/i.test(message)) {
    return new OperationalError(
      `${message} at ${where}: peer authentication requires the OS user (${userInfo().username}) to match the database user. Run pgssl as that OS user, usually: sudo -u postgres pgssl …`,
      { cause: error },
    );
  }
  if (pg?.code === '28000') {
    return new OperationalError(`the server refused the connection at ${where}: ${message}. Connect the way you normally administer this server (as the postgres OS user over the local socket usually works: sudo -u postgres pgssl …).`, { cause: error });
  }
  if (pg?.code === '3D000') {
    return new OperationalError(`${message} at ${where}. Name an existing database with -d (for example -d postgres).`, { cause: error });
  }
  if (/does not support SSL/i.test(message)) {
    return new OperationalError(`the server at ${where} does not accept TLS connections, and sslmode=${target.sslmode} requires TLS. Connect with sslmode=prefer or over the local socket to set TLS up.`, { cause: error });
  }
  if (/password authentication is required|password must be a string|SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string/i.test(message)) {
    return new OperationalError(
      `the server at ${where} asks for a password for user "${target.user}" and none was given. Set PGPASSWORD, add a line to ${target.passfile}, run on a terminal to be asked (or -W), or run as the postgres OS user over the local socket.`,
      { cause: error },
    );
  }
  return new OperationalError(`could not connect to the server at ${where}: ${message}`, { cause: error, hint: pg?.hint });
}
