/**
 * Asks the server for TLS the way libpq does (SSLRequest, then a handshake)
 * and reports what it actually serves. No authentication happens, so it works
 * for any user and proves what `SHOW ssl` cannot: a server with ssl = on whose
 * certificate failed to load answers 'N'. Changes nothing, and leaves no line
 * in the server log: the session ends with a TLS close_notify before any
 * startup packet, which the server treats as a client that left without a
 * word (postmaster.c, ProcessStartupPacket: "If we get no data at all, don't
 * clutter the log"). Cutting the socket instead logs "could not accept SSL
 * connection: EOF detected" on every run.
 * (PostgreSQL docs, "Message Flow", SSL Session Encryption.)
 */
import { connect as netConnect, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';

const sslRequestCode = 80877103;

export interface TlsProbeTarget {
  host: string;
  port: number;
  /** Host name to present (SNI) and, with `ca`, to verify. */
  servername?: string;
  /** PEM of the CA to verify the chain against; absent: no verification. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

export type TlsProbeResult =
  | {
      accepted: true;
      protocol: string;
      cipher: string;
      cipherBits: number | undefined;
      /** DER of the served chain, leaf first. */
      chainDer: Buffer[];
      /** Set when a CA was given: whether chain and host name verified. */
      verified?: { ok: boolean; error?: string };
    }
  | { accepted: false; reason: string };

export async function probeTls(target: TlsProbeTarget): Promise<TlsProbeResult> {
  const timeoutMs = target.timeoutMs ?? 5000;
  let socket: Socket | undefined;
  try {
    socket = await openSocket(target.host, target.port, timeoutMs);
    const answer = await requestSsl(socket, timeoutMs);
    if (answer === 'N') {
      return { accepted: false, reason: 'the server answered the TLS request with "N": TLS is off, or its certificate or key could not be loaded' };
    }
    if (answer !== 'S') return { accepted: false, reason: `unexpected answer to the TLS request: ${JSON.stringify(answer)}` };
    return await handshake(socket, target, timeoutMs);
  } catch (error) {
    return { accepted: false, reason: (error as Error).message };
  } finally {
    socket?.destroy();
  }
}

export function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('connect', () => resolve(socket));
    socket.once('error', (error) => reject(new Error(`could not connect to ${host}:${port}: ${error.message}`)));
  });
}

/** PostgreSQL's SSLRequest; resolves with the server's one-byte answer ('S' or 'N'). */
export function requestSsl(socket: Socket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = Buffer.alloc(8);
    request.writeInt32BE(8, 0);
    request.writeInt32BE(sslRequestCode, 4);
    const timer = setTimeout(() => reject(new Error(`no answer to the TLS request within ${timeoutMs} ms`)), timeoutMs);
    socket.once('data', (data) => {
      clearTimeout(timer);
      // Anything beyond the one byte would be injected plaintext (CVE-2021-23222): refuse it.
      if (data.length !== 1) reject(new Error('the server sent unexpected data after its answer to the TLS request'));
      else resolve(data.toString('latin1'));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(request);
  });
}

function handshake(socket: Socket, target: TlsProbeTarget, timeoutMs: number): Promise<TlsProbeResult> {
  const verify = target.ca !== undefined;
  const options: ConnectionOptions = {
    socket,
    rejectUnauthorized: false,
    ca: target.ca,
    servername: target.servername && !/^[\d.:]+$/.test(target.servername) ? target.servername : undefined,
  };
  return new Promise((resolve, reject) => {
    const tls = tlsConnect(options);
    const timer = setTimeout(() => {
      tls.destroy();
      reject(new Error(`TLS handshake did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      const cipher = tls.getCipher();
      const chainDer = peerChain(tls.getPeerCertificate(true));
      let verified: { ok: boolean; error?: string } | undefined;
      if (verify) {
        const chainError = tls.authorizationError ? String(tls.authorizationError) : undefined;
        const hostError = !chainError && target.servername ? hostMismatch(tls, target.servername) : undefined;
        verified = { ok: !chainError && !hostError, error: chainError ?? hostError };
      }
      const result: TlsProbeResult = {
        accepted: true,
        protocol: tls.getProtocol() ?? 'unknown',
        cipher: cipher.standardName ?? cipher.name,
        cipherBits: (cipher as { bits?: number }).bits,
        chainDer,
        verified,
      };
      closeTls(tls, timeoutMs).then(() => resolve(result));
    });
    tls.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`TLS handshake failed: ${error.message}`));
    });
  });
}

/**
 * Ends a TLS session the way the server does not log: close_notify, then wait
 * until the server has closed its side (it exits at once, having read no
 * startup packet). Never rejects; gives up after `timeoutMs`.
 */
export function closeTls(tls: TLSSocket, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (tls.destroyed) return resolve();
    const timer = setTimeout(() => tls.destroy(), timeoutMs);
    tls.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    tls.on('error', () => tls.destroy());
    tls.resume(); // read the server's session tickets and its EOF, so 'close' comes
    tls.end();
  });
}

function hostMismatch(tls: ReturnType<typeof tlsConnect>, servername: string): string | undefined {
  return checkServerIdentity(servername, tls.getPeerCertificate())?.message;
}

/** DER of the chain a TLS peer sent, leaf first (Node links each certificate to its issuer). */
export function peerChain(leaf: PeerCertificate & { issuerCertificate?: PeerCertificate }): Buffer[] {
  const chain: Buffer[] = [];
  let current: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf;
  while (current?.raw && !chain.some((der) => der.equals(current!.raw))) {
    chain.push(current.raw);
    current = current.issuerCertificate as typeof current;
  }
  return chain;
}
