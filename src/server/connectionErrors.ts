/**
 * Turns a failed connection into one paragraph that names the cause and the
 * fix. Pure: takes the error and the target, returns an OperationalError.
 */
import { userInfo } from 'node:os';
import { OperationalError, messageOf, pgErrorFields } from '../errors.js';
import { describeTarget, isSocketHost, type ConnectionTarget } from './connectionTarget.js';

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
