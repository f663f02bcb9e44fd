/**
 * Opens the admin connection. `withClient` always closes it. Throws
 * OperationalError with an explanation when the server cannot be reached or
 * refuses us. Changes nothing.
 */
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { socketFrom } from './boundSocket.js';
import { createRequire } from 'node:module';
import type * as PgModule from 'pg';

// pg is CommonJS; require() skips its ESM wrapper (~12 ms of every command that connects).
const pg = createRequire(import.meta.url)('pg') as typeof PgModule;
import { explainConnectionError } from './connectionErrors.js';
import { isSocketHost, type ConnectionTarget } from './connectionTarget.js';
import { lookupPasswordFile } from './pgpass.js';

export type Client = PgModule.Client;

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
  if (password === undefined && target.promptPassword === 'always') password = await askPassword(target);
  const attempts = tlsAttempts(target);
  let lastError: unknown;
  for (const [index, ssl] of attempts.entries()) {
    const client = new pg.Client({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      application_name: target.applicationName,
      ssl,
      // Called only when the server asks for a password, as libpq does.
      password: async () => password ?? (password = await passwordWhenAsked(target)),
      connectionTimeoutMillis: 10_000,
      ...(target.localAddress ? { stream: socketFrom(target.localAddress) } : {}),
    } as PgModule.ClientConfig);
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
    throw new Error('password authentication is required and no password was supplied');
  }
  return askPassword(target);
}

async function askPassword(target: ConnectionTarget): Promise<string> {
  const { promptPassword } = await import('../ui/passwordPrompt.js');
  return promptPassword(`Password for user ${target.user}: `);
}
