/**
 * Opens the admin connection. `withClient` always closes it. Throws
 * OperationalError with an explanation when the server cannot be reached or
 * refuses us. Changes nothing.
 */
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { checkServerIdentity, TLSSocket, type ConnectionOptions } from 'node:tls';
import { socketFrom } from './boundSocket.js';
import { peerChain } from './tlsProbe.js';
import { createRequire } from 'node:module';
import type * as PgModule from 'pg';

// Loaded at the first connection, not with the module: commands that never connect (client-cert, ca init, cert inspect, hba) skip its ~30 ms.
let pgModule: typeof PgModule | undefined;
const pgLibrary = (): typeof PgModule => (pgModule ??= loadPg());
import { PasswordRequired, explainConnectionError } from './connectionErrors.js';
import { isSocketHost, socketOwnerForRoot, type ConnectionTarget } from './connectionTarget.js';
import { lookupPasswordFile } from './pgpass.js';

export type Client = PgModule.Client;

/**
 * pg is CommonJS; require() skips its ESM wrapper (~12 ms of every command
 * that connects). While it loads, `navigator` is defined as in Node 21+: pg
 * asks whether it runs on Cloudflare Workers, and without `navigator` it
 * constructs a fetch Response to find out, which loads undici (~30 ms on Node
 * 20, measured in bench/startup). Removed again right after.
 */
function loadPg(): typeof PgModule {
  const hadNavigator = 'navigator' in globalThis;
  if (!hadNavigator) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true });
  try {
    return createRequire(import.meta.url)('pg') as typeof PgModule;
  } finally {
    if (!hadNavigator) delete (globalThis as { navigator?: unknown }).navigator;
  }
}

type TlsAttempt = false | ConnectionOptions;

/** The order libpq tries plain and TLS for each sslmode (socket: never TLS). */
function tlsAttempts(target: ConnectionTarget): TlsAttempt[] {
  if (isSocketHost(target.host)) return [false];
  const noVerify: ConnectionOptions = { rejectUnauthorized: false };
  const ca = () => target.sslRootCertPem ?? (target.sslrootcert ? readFileSync(target.sslrootcert) : undefined);
  const name = target.tlsServerName ?? target.host;
  switch (target.sslmode) {
    case 'disable':
      return [false];
    case 'allow':
      return [false, noVerify];
    case 'prefer':
      return [noVerify, false];
    case 'require':
      return [noVerify];
    case 'verify-ca':
      return [{ ca: ca(), rejectUnauthorized: true, checkServerIdentity: () => undefined }];
    case 'verify-full':
      return [{ ca: ca(), rejectUnauthorized: true, checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert) }];
  }
}

export async function openClient(target: ConnectionTarget): Promise<Client> {
  let password = target.password;
  if (password === undefined && target.promptPassword === 'always') password = target.password = await askPassword(target);
  const attempts = tlsAttempts(target);
  let lastError: unknown;
  for (const [index, ssl] of attempts.entries()) {
    // Root logging in as the server's OS user's role (postgres) connects to the socket as that OS user: peer
    // authentication compares the OS user the kernel recorded at connect(2) (SO_PEERCRED) with the role, and
    // `sudo pgssl` should work as `sudo -u postgres pgssl` does. Any other role keeps root's identity, as libpq would.
    const owner = socketOwnerForRoot(target.host, target.port);
    const peerUid = owner?.name === target.user ? owner.uid : undefined;
    const client = new (pgLibrary().Client)({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      application_name: target.applicationName,
      ssl,
      // Called only when the server asks for a password, as libpq does.
      // A password typed at the prompt is kept on the target, so that the run's next sessions do not ask again.
      password: async () => password ?? (password = target.password = await passwordWhenAsked(target)),
      // libpq's default (channel_binding=prefer): SCRAM-SHA-256-PLUS with tls-server-end-point whenever the
      // server offers it over TLS. A certificate whose signature has no usable hash (Ed25519) then fails here as it fails for psql.
      enableChannelBinding: target.channelBinding !== 'disable',
      connectionTimeoutMillis: 10_000,
      ...(target.localAddress ? { stream: socketFrom(target.localAddress) } : peerUid !== undefined ? { stream: socketConnectingAs(peerUid) } : {}),
    } as PgModule.ClientConfig);
    recordAuthentication(client);
    try {
      await client.connect();
      return client;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      const retryable =
        index < attempts.length - 1 &&
        (/does not support SSL/i.test(String(error)) || /no encryption/i.test(String(error)) || /SSL off/i.test(String(error)));
      if (!retryable) break;
    }
  }
  throw explainConnectionError(lastError, target);
}

/**
 * What the server asked for when this session logged in: 'none' (trust, peer…),
 * 'password' (cleartext), 'md5', 'SCRAM-SHA-256' or 'SCRAM-SHA-256-PLUS' (channel binding).
 */
export type Authentication = 'none' | 'password' | 'md5' | 'SCRAM-SHA-256' | 'SCRAM-SHA-256-PLUS';
const authentications = new WeakMap<Client, Authentication>();

export function authenticationOf(client: Client): Authentication {
  return authentications.get(client) ?? 'none';
}

function recordAuthentication(client: Client): void {
  const connection = (client as unknown as { connection?: { on?: (event: string, listener: (message: { mechanisms?: string[] }) => void) => void } }).connection;
  connection?.on?.('authenticationCleartextPassword', () => authentications.set(client, 'password'));
  connection?.on?.('authenticationMD5Password', () => authentications.set(client, 'md5'));
  connection?.on?.('authenticationSASL', (message) => {
    // The choice node-pg makes (crypto/sasl.js startSession): PLUS when enabled, over TLS, and offered.
    const plus = (client as unknown as { enableChannelBinding?: boolean }).enableChannelBinding && tlsSocketOf(client) !== undefined && message.mechanisms?.includes('SCRAM-SHA-256-PLUS');
    authentications.set(client, plus ? 'SCRAM-SHA-256-PLUS' : 'SCRAM-SHA-256');
  });
}

/**
 * A socket whose connect(2) runs with the effective uid `uid`, for pg's
 * `stream` option. Node connects a Unix socket synchronously inside
 * Socket.connect (libuv's uv_pipe_connect), so the euid is switched only
 * around that call and back before any other JavaScript runs; the kernel
 * keeps the credentials of that moment for the life of the connection.
 */
function socketConnectingAs(uid: number): () => Socket {
  return () => {
    const socket = new Socket();
    const connect = socket.connect.bind(socket) as (path: string) => Socket;
    (socket as unknown as { connect: (path: string) => Socket }).connect = (path: string) => {
      process.seteuid!(uid);
      try {
        return connect(path);
      } finally {
        process.seteuid!(0);
      }
    };
    return socket;
  };
}

/**
 * A server takes ~15 ms to close a session after the client says goodbye
 * (the backend exits first). Probe sessions need not wait for that: they are
 * ended here in the background, and settleClosing() waits for all of them
 * where it matters (before counting the server's sessions, before exiting).
 */
const closing = new Set<Promise<void>>();

export function closeInBackground(client: Client): void {
  const done: Promise<void> = client
    .end()
    .catch(() => undefined)
    .finally(() => closing.delete(done));
  closing.add(done);
}

export async function settleClosing(): Promise<void> {
  while (closing.size > 0) await Promise.all([...closing]);
}

/**
 * Ends the admin session at the very end of a run without waiting for the
 * backend to exit: the caller has released what it held (the run lock), and
 * the socket no longer keeps the process alive.
 */
export function closeAtExit(client: Client): void {
  closeInBackground(client);
  (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
}

/** The TLS socket under a pg client (pg swaps its stream for one after SSLRequest); undefined if plain, or if pg changes that. */
function tlsSocketOf(client: Client): TLSSocket | undefined {
  const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  return stream instanceof TLSSocket ? stream : undefined;
}

/** What a TLS session's handshake showed: the same facts as a bare probe (tlsProbe.ts), from a real session. */
export interface ObservedTls {
  protocol: string;
  cipher: string;
  cipherBits: number | undefined;
  /** DER of the served chain, leaf first. */
  chainDer: Buffer[];
}

export function observedTlsOf(client: Client): ObservedTls | undefined {
  const socket = tlsSocketOf(client);
  if (!socket) return undefined;
  const cipher = socket.getCipher();
  return { protocol: socket.getProtocol() ?? 'unknown', cipher: cipher.standardName ?? cipher.name, cipherBits: (cipher as { bits?: number }).bits, chainDer: peerChain(socket.getPeerCertificate(true)) };
}

export async function withClient<T>(target: ConnectionTarget, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await openClient(target);
  // A dropped connection must surface on the next query, not crash the process.
  client.on('error', () => undefined);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function passwordWhenAsked(target: ConnectionTarget): Promise<string> {
  const fromFile = lookupPasswordFile(target.passfile, {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
  });
  if (fromFile !== undefined) return fromFile;
  if (target.promptPassword === 'never' || !process.stdin.isTTY) {
    throw new PasswordRequired();
  }
  return askPassword(target);
}

async function askPassword(target: ConnectionTarget): Promise<string> {
  const { promptPassword } = await import('../ui/passwordPrompt.js');
  return promptPassword(`Password for user ${target.user}: `);
}
