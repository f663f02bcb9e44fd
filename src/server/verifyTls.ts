/**
 * Proves TLS works the way a careful client sees it: a handshake verified
 * against the CA and the host name (verify-full), the served certificate being
 * the one just installed (SHA-256 fingerprint), and — when we can log in over
 * TCP — pg_stat_ssl for that very backend. SHOW ssl proves nothing. Read-only.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { messageOf } from '../errors.js';
import { closeInBackground, observedTlsOf, openClient } from './connect.js';
import type { ConnectionTarget } from './connectionTarget.js';
import { reloadSeenBy } from './reload.js';
import { probeTls } from './tlsProbe.js';

export interface TlsVerification {
  ok: boolean;
  reason?: string;
  address: string;
  verifiedName: string;
  protocol?: string;
  cipher?: string;
  servedFingerprint?: string;
  expectedFingerprint: string;
  /** From pg_stat_ssl of an authenticated verify-full session; absent when TCP login was not possible. */
  pgStatSsl?: { ssl: boolean; version: string; cipher: string; bits: number };
  pgStatSslSkipped?: string;
  /** The verify-full session still ran the configuration from before `loadedAfter`: nothing was judged, ask again. */
  staleConfiguration?: boolean;
}

export function fingerprintOf(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}

/**
 * The verify-full session comes first: when it connects, its own TLS socket
 * shows the served certificate, protocol and cipher, and pg_stat_ssl is read
 * over it. Only when it fails does a bare handshake (probeTls) find out
 * whether TLS or the login is at fault, so the success path costs one
 * connection, not two.
 */
export async function verifyTls(
  admin: ConnectionTarget,
  where: { host: string; port: number; verifyName: string; caPem: string; expectedCertificatePem: string; loadedAfter?: number },
): Promise<TlsVerification> {
  const expectedFingerprint = fingerprintOf(where.expectedCertificatePem);
  const result: TlsVerification = { ok: false, address: `${where.host}:${where.port}`, verifiedName: where.verifyName, expectedFingerprint };
  let loginError: unknown;
  try {
    const client = await openClient({
      ...admin,
      host: where.host,
      port: where.port,
      sslmode: 'verify-full',
      sslRootCertPem: where.caPem,
      tlsServerName: where.verifyName,
      promptPassword: 'never',
      socketDirsTried: undefined,
    });
    try {
      const observed = observedTlsOf(client);
      if (observed) {
        // This session doubles as the proof that new sessions run the reloaded configuration.
        if (where.loadedAfter !== undefined && !(await reloadSeenBy(client, where.loadedAfter))) return { ...result, staleConfiguration: true, reason: 'the new session still runs the configuration from before the reload' };
        result.protocol = observed.protocol;
        result.cipher = observed.cipher;
        result.servedFingerprint = observed.chainDer[0] ? createHash('sha256').update(observed.chainDer[0]).digest('hex') : undefined;
        if (result.servedFingerprint !== expectedFingerprint) {
          return { ...result, reason: 'the server still serves another certificate than the one installed (the reload did not load the new files; see the server log)' };
        }
        const { rows } = await client.query('SELECT ssl, version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        result.pgStatSsl = rows[0];
        if (!result.pgStatSsl?.ssl) return { ...result, reason: 'pg_stat_ssl says the verify-full session is not encrypted' };
        return { ...result, ok: true };
      }
    } finally {
      closeInBackground(client);
    }
  } catch (error) {
    loginError = error;
  }
  // The session failed (or its socket could not be read): a bare handshake tells TLS from login problems.
  const probe = await probeTls({ host: where.host, port: where.port, servername: where.verifyName, ca: where.caPem });
  if (!probe.accepted) return { ...result, reason: `TLS handshake with ${result.address} failed: ${probe.reason}` };
  result.protocol = probe.protocol;
  result.cipher = probe.cipher;
  result.servedFingerprint = probe.chainDer[0] ? createHash('sha256').update(probe.chainDer[0]).digest('hex') : undefined;
  if (!probe.verified?.ok) return { ...result, reason: `the served certificate does not verify as "${where.verifyName}" against the CA: ${probe.verified?.error}` };
  if (result.servedFingerprint !== expectedFingerprint) {
    return { ...result, reason: 'the server still serves another certificate than the one installed (the reload did not load the new files; see the server log)' };
  }
  // The handshake is proven; logging in over TCP may need a password we do not have (peer auth on the socket).
  result.pgStatSslSkipped = `could not log in over TCP to read pg_stat_ssl: ${loginError === undefined ? 'the session exposed no TLS socket' : messageOf(loginError)}`;
  return { ...result, ok: true };
}
