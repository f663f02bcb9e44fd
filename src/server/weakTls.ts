/**
 * Real handshakes that offer the server only weak suites or only an old
 * protocol (PostgreSQL's SSLRequest first, as libpq does), all at once. What
 * the server accepts is what an attacker's client could negotiate; what this
 * machine's OpenSSL cannot even offer (OpenSSL 3 has no RC4, export or, in
 * Debian's build, 3DES suites) is reported as untestable, never as safe.
 * Authenticates nothing and changes nothing. Each handshake the server
 * refuses leaves one line in its log ("could not accept SSL connection: no
 * shared cipher"); an accepted one ends with close_notify and leaves none.
 */
import { createSecureContext, connect as tlsConnect } from 'node:tls';
import { closeTls, openSocket, requestSsl } from './tlsProbe.js';
import type { WeakProbe, WeakProbeId } from './weakTlsPlan.js';

export type WeakTlsOutcome =
  | { probe: WeakProbeId; kind: WeakProbe['kind']; outcome: 'accepted'; protocol: string; cipher: string }
  | { probe: WeakProbeId; kind: WeakProbe['kind']; outcome: 'refused' | 'untestable' | 'failed'; reason: string };

export interface WeakTlsTarget {
  host: string;
  port: number;
  timeoutMs?: number;
}

/** Runs `probes` in parallel against `target`; never rejects. */
export function probeWeakTls(target: WeakTlsTarget, probes: readonly WeakProbe[]): Promise<WeakTlsOutcome[]> {
  return Promise.all(probes.map((probe) => tryProbe(target, probe)));
}

async function tryProbe(target: WeakTlsTarget, probe: WeakProbe): Promise<WeakTlsOutcome> {
  const base = { probe: probe.id, kind: probe.kind };
  const timeoutMs = target.timeoutMs ?? 5000;
  let secureContext;
  try {
    secureContext = createSecureContext({ ciphers: probe.ciphers, minVersion: probe.minVersion, maxVersion: probe.maxVersion });
  } catch (error) {
    return { ...base, outcome: 'untestable', reason: `this machine's OpenSSL (${process.versions.openssl}) cannot offer ${probe.label} (${(error as Error).message})` };
  }
  let socket;
  try {
    socket = await openSocket(target.host, target.port, timeoutMs);
    const answer = await requestSsl(socket, timeoutMs);
    if (answer !== 'S') return { ...base, outcome: 'failed', reason: `the server answered the TLS request with ${JSON.stringify(answer)}` };
  } catch (error) {
    socket?.destroy();
    return { ...base, outcome: 'failed', reason: (error as Error).message };
  }
  const connected = socket;
  return new Promise((resolve) => {
    const tls = tlsConnect({ socket: connected, secureContext, rejectUnauthorized: false, minVersion: probe.minVersion, maxVersion: probe.maxVersion });
    const timer = setTimeout(() => {
      tls.destroy();
      resolve({ ...base, outcome: 'failed', reason: `no handshake within ${timeoutMs} ms` });
    }, timeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      const cipher = tls.getCipher();
      const outcome: WeakTlsOutcome = { ...base, outcome: 'accepted', protocol: tls.getProtocol() ?? 'unknown', cipher: cipher.name };
      closeTls(tls, timeoutMs).then(() => resolve(outcome));
    });
    tls.once('error', (error) => {
      clearTimeout(timer);
      tls.destroy();
      connected.destroy();
      // A TLS alert from the server (handshake failure, protocol version) is its refusal.
      resolve({ ...base, outcome: 'refused', reason: opensslReason(error.message) });
    });
  });
}

/** "8080…:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/…" → "sslv3 alert handshake failure" */
function opensslReason(message: string): string {
  return /SSL routines:[^:]*:([^:\n]+)/.exec(message)?.[1] ?? message.split('\n')[0];
}
