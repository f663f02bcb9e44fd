/**
 * Proves TLS works the way a careful client sees it: a handshake verified
 * against the CA and the host name (verify-full), the served certificate being
 * the one just installed (SHA-256 fingerprint), a login the way libpq logs in
 * (SCRAM with channel binding when the server offers it), and — when that
 * login succeeds — pg_stat_ssl for that very backend. SHOW ssl proves nothing.
 * Read-only.
 */
import { fingerprintOfPem, servedFingerprint } from '../certs/fingerprint.js';
import { messageOf } from '../errors.js';
import { authenticationOf, closeInBackground, observedTlsOf, openClient, type Authentication } from './connect.js';
import { classifyLoginFailure, type LoginFailure } from './connectionErrors.js';
import type { ConnectionTarget } from './connectionTarget.js';
import { reloadSeenBy } from './reload.js';
import { probeTls } from './tlsProbe.js';

export interface TlsVerification {
  ok: boolean;
  reason?: string;
  address: string;
  /** The name presented to the server (SNI); verified against the certificate only when hostNameChecked. */
  verifiedName: string;
  /** False with checkHostName: false (--allow-name-mismatch): the chain was verified, the name was not. */
  hostNameChecked: boolean;
  protocol?: string;
  cipher?: string;
  servedFingerprint?: string;
  expectedFingerprint: string;
  /** How the verify-full session authenticated ('none' for trust; 'SCRAM-SHA-256-PLUS' is channel binding); absent when it could not log in. */
  authentication?: Authentication;
  /** Why the verify-full session could not log in, when it could not. */
  loginFailure?: LoginFailure;
  /** From pg_stat_ssl of an authenticated verify-full session; absent when TCP login was not possible. */
  pgStatSsl?: { ssl: boolean; version: string; cipher: string; bits: number };
  pgStatSslSkipped?: string;
  /** What this verification did not check and how to get the check, one sentence each; empty when everything was checked. */
  notChecked: string[];
  /** The verify-full session still ran the configuration from before `loadedAfter`: nothing was judged, ask again. */
  staleConfiguration?: boolean;
}

export interface TlsVerificationTarget {
  host: string;
  port: number;
  verifyName: string;
  caPem: string;
  expectedCertificatePem: string;
  loadedAfter?: number;
  /** false: verify the chain against the CA but not the host name (sslmode=verify-ca), for --allow-name-mismatch. Default true. */
  checkHostName?: boolean;
}

export function fingerprintOf(certificatePem: string): string {
  return fingerprintOfPem(certificatePem);
}

const otherCertificate = 'the server still serves another certificate than the one installed (the reload did not load the new files; see the server log)';

/**
 * The verify-full session comes first: when it connects, its own TLS socket
 * shows the served certificate, protocol and cipher, and pg_stat_ssl is read
 * over it. Only when it fails does a bare handshake (probeTls) find out
 * whether TLS or the login is at fault, so the success path costs one
 * connection, not two.
 */
export async function verifyTls(admin: ConnectionTarget, where: TlsVerificationTarget): Promise<TlsVerification> {
  const checkHostName = where.checkHostName !== false;
  const expectedFingerprint = fingerprintOf(where.expectedCertificatePem);
  const result: TlsVerification = { ok: false, address: `${where.host}:${where.port}`, verifiedName: where.verifyName, hostNameChecked: checkHostName, expectedFingerprint, notChecked: [] };
  if (!checkHostName) {
    result.notChecked.push(`the host name: the certificate was verified against the CA only (--allow-name-mismatch); clients with sslmode=verify-full will refuse it unless the name they connect to is in the certificate`);
  }
  let loginError: unknown;
  try {
    const client = await openClient({
      ...admin,
      host: where.host,
      port: where.port,
      sslmode: checkHostName ? 'verify-full' : 'verify-ca',
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
        result.authentication = authenticationOf(client);
        result.servedFingerprint = servedFingerprint(observed.chainDer);
        if (result.servedFingerprint !== expectedFingerprint) return { ...result, reason: otherCertificate };
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
  const probe = await probeTls({ host: where.host, port: where.port, servername: checkHostName ? where.verifyName : undefined, ca: where.caPem });
  if (!probe.accepted) return { ...result, reason: `TLS handshake with ${result.address} failed: ${probe.reason}` };
  result.protocol = probe.protocol;
  result.cipher = probe.cipher;
  result.servedFingerprint = servedFingerprint(probe.chainDer);
  if (!probe.verified?.ok) {
    return { ...result, reason: `the served certificate does not verify ${checkHostName ? `as "${where.verifyName}" ` : ''}against the CA: ${probe.verified?.error}` };
  }
  if (result.servedFingerprint !== expectedFingerprint) return { ...result, reason: otherCertificate };

  const failure = loginError === undefined ? undefined : classifyLoginFailure(loginError);
  result.loginFailure = failure;
  if (failure === 'channel-binding') {
    return {
      ...result,
      reason: `the TLS handshake works, but logging in over it with SCRAM channel binding (tls-server-end-point, what psql and every libpq client use by default) fails: ${serverWords(loginError)}. Channel binding needs a hash of the certificate's signature algorithm, which Ed25519 and Ed448 certificates do not have; clients would have to set channel_binding=disable. Use an ECDSA (P-256) or RSA server certificate`,
    };
  }
  // The handshake is proven; logging in over TCP may need a password we do not have (peer auth on the socket).
  result.pgStatSslSkipped = pgStatSslNotRead(failure, loginError, admin, result);
  result.notChecked.push(result.pgStatSslSkipped);
  return { ...result, ok: true };
}

/** The server's (or node-pg's) own words under pgssl's explanation. */
function serverWords(error: unknown): string {
  return messageOf((error as { cause?: unknown }).cause ?? error);
}

/** One sentence: why pg_stat_ssl was not read, what the evidence is instead, and how to get the full check. */
function pgStatSslNotRead(failure: LoginFailure | undefined, loginError: unknown, admin: ConnectionTarget, tls: TlsVerification): string {
  const evidence = `the TLS evidence is the ${tls.hostNameChecked ? 'verify-full' : 'verify-ca'} handshake (chain${tls.hostNameChecked ? `, host name "${tls.verifiedName}"` : ''}, ${tls.protocol}, ${tls.cipher}, served certificate SHA-256 ${tls.servedFingerprint?.slice(0, 16)}…)`;
  const fullCheck = `For the full check, give the password of "${admin.user}" through PGPASSWORD or ~/.pgpass (${admin.passfile}) and run pgssl status.`;
  if (failure === 'password-required') {
    return `pg_stat_ssl was not read: over TCP the server asks for a password for "${admin.user}" (so TLS passes pg_hba.conf) and none was given; ${evidence}. ${fullCheck}`;
  }
  if (failure === 'password-refused') {
    return `pg_stat_ssl was not read: over TCP the server refused the password given for "${admin.user}" (PGPASSWORD or ~/.pgpass; TLS passes pg_hba.conf); ${evidence}. ${fullCheck.replace('give the password', 'give the right password')}`;
  }
  const why = loginError === undefined ? 'the session exposed no TLS socket' : messageOf(loginError);
  return `could not log in over TCP to read pg_stat_ssl: ${why}; ${evidence}.`;
}
