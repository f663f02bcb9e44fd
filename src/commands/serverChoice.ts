/**
 * Nothing answers on the socket the connection options name (the wizard run
 * with no server on 5432, defect 14): on a terminal, offer the local servers
 * this host runs and go on with the one picked; in a script, fail with the
 * connection error, now naming the servers found and the -h/-p that reach
 * each. Changes nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { explainConnectionError } from '../server/connectionErrors.js';
import { describeTarget, isSocketHost, type ConnectionTarget } from '../server/connectionTarget.js';
import { describeLocalServer, findLocalServers, flagsFor, socketFolders, type LocalServer } from '../server/localServers.js';
import { Cancelled, type Choice, type Prompter } from '../ui/prompter.js';
import { OperationalError } from '../errors.js';

export interface ServerChoiceOptions {
  prompter: Prompter;
  /** --yes: never pick a server on the DBA's behalf. */
  yes: boolean;
  find?: () => LocalServer[];
}

/** The target to connect to: `target` itself when its socket exists or it is TCP; else the server the DBA picks. Throws OperationalError when there is none to pick. */
export async function targetOrLocalServer(target: ConnectionTarget, options: ServerChoiceOptions): Promise<ConnectionTarget> {
  if (!isSocketHost(target.host) || existsSync(join(target.host, `.s.PGSQL.${target.port}`))) return target;
  const servers = (options.find ?? findLocalServers)().filter((s) => !(s.socketDir === target.host && s.port === target.port));
  const reachable = servers.filter((s) => s.socketDir);
  if (!options.prompter.interactive || options.yes || reachable.length === 0) throw noServerError(target, servers);

  const none = 'none' as const;
  const choices: Choice<LocalServer | typeof none>[] = [
    ...servers.map((server) => ({ value: server, name: describeLocalServer(server), disabled: unreachable(server) })),
    { value: none, name: 'None of these: stop here' },
  ];
  const picked = await options.prompter.select<LocalServer | typeof none>({
    message: `No server answers on ${describeTarget(target)}. Which local server should pgssl work on?`,
    flag: '-h/-p',
    default: reachable[0],
    choices,
  });
  if (picked === none) throw new Cancelled();
  return { ...target, host: picked.socketDir!, port: picked.port, socketDirsTried: undefined };
}

/** Why a server cannot be picked: stopped, or its socket is in a folder not scanned. */
function unreachable(server: LocalServer): string | undefined {
  if (server.socketDir) return undefined;
  return server.status?.startsWith('down') ? '(stopped)' : '(no socket found: reach it with -h and its socket folder)';
}

function noServerError(target: ConnectionTarget, servers: LocalServer[]): OperationalError {
  const missing = Object.assign(new Error(`connect ENOENT ${join(target.host, `.s.PGSQL.${target.port}`)}`), { code: 'ENOENT' });
  const base = explainConnectionError(missing, target);
  const found =
    servers.length === 0
      ? `No other server was found either (sockets in ${socketFolders().join(', ')}; pg_lsclusters).`
      : `Servers found on this host: ${servers.map((s) => `${describeLocalServer(s)} — ${unreachable(s) ?? flagsFor(s)}`).join('; ')}.`;
  return new OperationalError(`${base.message} ${found}`, { cause: base.cause });
}
