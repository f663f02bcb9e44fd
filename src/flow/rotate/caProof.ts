/**
 * What proves a CA rotation phase on the real server, read-only:
 * - which CA files a verify-full client can use: the server's certificate
 *   verified (chain and host name) against one CA file, by a bare handshake;
 * - which CAs the server's ssl_ca_file trusts *in force* (not on disk): a
 *   handshake that presents a throwaway client certificate from that CA.
 *   PostgreSQL verifies a client certificate it is sent against ssl_ca_file
 *   and aborts the handshake when it does not chain (be-secure-openssl.c,
 *   verify_cb returns OpenSSL's verdict), whatever pg_hba.conf says: so an
 *   accepted handshake means "a client certificate from this CA would log in
 *   with cert auth", a refused one "it would be refused". No login happens:
 *   the probe stops at the server's first answer to the startup packet.
 */
import { once } from 'node:events';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { buildClientCertificate, type Issuer } from '../../certs/build.js';
import { defaultKeySpec, generateKeyPair } from '../../certs/keys.js';
import { messageOf } from '../../errors.js';
import { openSocket, probeTls, requestSsl } from '../../server/tlsProbe.js';

export interface Endpoint {
  host: string;
  port: number;
  /** The name clients verify (SNI and host name check). */
  verifyName: string;
}

/** Does the served certificate verify-full against `caPem`? `error` is OpenSSL's word when it does not. */
export async function servedVerifiesWith(at: Endpoint, caPem: string): Promise<{ ok: boolean; error?: string }> {
  const probe = await probeTls({ host: at.host, port: at.port, servername: at.verifyName, ca: caPem });
  if (!probe.accepted) return { ok: false, error: probe.reason };
  return probe.verified ?? { ok: false, error: 'not verified' };
}

/**
 * Presents a client certificate signed by `issuer` (made now, one day, never
 * written to disk) and says whether the server's TLS layer accepted it.
 * `user`/`database` go into the startup packet only so that the server
 * answers something; the probe closes before authenticating.
 */
export async function clientCertificateAccepted(at: Endpoint, issuer: Issuer, startup: { user: string; database: string }, timeoutMs = 10_000): Promise<{ accepted: boolean; reason?: string }> {
  const keys = await generateKeyPair(defaultKeySpec);
  const cert = buildClientCertificate({ commonName: 'pgssl CA rotation probe', days: 1, keys }, issuer);
  const socket = await openSocket(at.host, at.port, timeoutMs);
  try {
    const answer = await requestSsl(socket, timeoutMs);
    if (answer !== 'S') return { accepted: false, reason: `the server answered the TLS request with ${JSON.stringify(answer)}` };
    // No SNI for an address (RFC 6066 §3); the server's choice of certificate does not matter here.
    const tls = tlsConnect({ socket, ...(isIP(at.verifyName) ? {} : { servername: at.verifyName }), rejectUnauthorized: false, cert, key: keys.privateKeyPem });
    const verdict = new Promise<{ accepted: boolean; reason?: string }>((resolve) => {
      const timer = setTimeout(() => resolve({ accepted: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      const done = (result: { accepted: boolean; reason?: string }) => {
        clearTimeout(timer);
        resolve(result);
      };
      // TLS 1.3 ends the client's side of the handshake before the server has judged its certificate:
      // the verdict is the server's first byte (a protocol message) or its alert.
      tls.once('data', () => done({ accepted: true }));
      tls.once('error', (error) => done({ accepted: false, reason: shortTlsReason(messageOf(error)) }));
      tls.once('close', () => done({ accepted: false, reason: 'the server closed the connection' }));
    });
    const connected = once(tls, 'secureConnect').then(() => true, () => false);
    if (await Promise.race([connected, verdict.then(() => false)])) tls.write(startupPacket(startup.user, startup.database));
    const result = await verdict;
    tls.destroy();
    return result;
  } finally {
    socket.destroy();
  }
}

/** StartupMessage, protocol 3.0 (PostgreSQL docs, "Message Formats"). */
function startupPacket(user: string, database: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), ...['user', user, 'database', database].map((s) => Buffer.from(`${s}\0`, 'utf8')), Buffer.from([0])]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([length, body]);
}

/** OpenSSL's "…:ssl3_read_bytes:tlsv1 alert unknown ca:../ssl/record/…" → "tlsv1 alert unknown ca": one line for the message. */
export function shortTlsReason(message: string): string {
  return /:([^:\n]*alert[^:\n]*):/.exec(message)?.[1] ?? message.split('\n')[0].trim();
}
