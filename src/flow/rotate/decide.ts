/**
 * rotate's pure decisions: is the served certificate due, what the new pair
 * is called, which names and which key it gets. No clock, no disk: the
 * caller hands in `now` and what exists.
 */
import type { X509Certificate } from 'node:crypto';
import { basename, dirname, extname, join } from 'node:path';
import { ipAddressBytes } from '../../certs/altNames.js';
import { normalizePem } from '../../certs/build.js';
import { fingerprintOfPem } from '../../certs/fingerprint.js';
import { defaultKeySpec, type KeySpec } from '../../certs/keys.js';
import { parseSubjectAltName } from '../../certs/x509.js';

const dayMs = 86_400_000;

export interface Expiry {
  notAfter: string;
  /** Whole days left (negative once expired). */
  daysLeft: number;
  withinDays: number;
  /** It expires within `withinDays` days from now (or has expired). */
  due: boolean;
}

export function expiryOf(notAfter: Date, now: Date, withinDays: number): Expiry {
  const left = notAfter.getTime() - now.getTime();
  return { notAfter: notAfter.toISOString(), daysLeft: Math.floor(left / dayMs), withinDays, due: left <= withinDays * dayMs };
}

/** 2026-12-01T22:00:13.456Z → 20261201T220013Z: sorts by time, one word in a file name. */
export function utcStamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

export interface PairPaths {
  certPath: string;
  keyPath: string;
}

/**
 * The new pair's files, each beside the one in force (or both in `certDir`):
 * `server-<UTC stamp>.crt` / `.key`, with the extension of the file it
 * replaces. Never the name of a file that exists: a second rotation within
 * the same second gets `-2`, `-3`…
 */
export function newPairPaths(current: PairPaths, now: Date, exists: (path: string) => boolean, certDir?: string): PairPaths {
  const stamp = utcStamp(now);
  const certExt = extname(basename(current.certPath)) || '.crt';
  const ownKeyExt = extname(basename(current.keyPath)) || '.key';
  // Same folder and extension (a combined PEM today, or --cert-dir): the new pair is still two files.
  const sameFolder = (certDir ?? dirname(current.keyPath)) === (certDir ?? dirname(current.certPath));
  const keyExt = sameFolder && ownKeyExt === certExt ? (certExt === '.key' ? '.pem' : '.key') : ownKeyExt;
  const place = (path: string, ext: string, suffix: string) => join(certDir ?? dirname(path), `server-${stamp}${suffix}${ext}`);
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? '' : `-${n}`;
    const paths = { certPath: place(current.certPath, certExt, suffix), keyPath: place(current.keyPath, keyExt, suffix) };
    if (!exists(paths.certPath) && !exists(paths.keyPath)) return paths;
  }
}

/**
 * The DBA's pair is the one in force, byte for byte (line ends aside), and
 * the server serves that certificate: a provisioning tool's second run with
 * the same --cert-file/--key-file, which must change nothing. Texts are
 * undefined for files that cannot be read.
 */
export function pairAlreadyInForce(pair: { certificatePem: string; privateKeyPem: string }, inForce: { certText?: string; keyText?: string }, servedFingerprint: string): boolean {
  if (inForce.certText === undefined || inForce.keyText === undefined) return false;
  return normalizePem(inForce.certText) === pair.certificatePem && normalizePem(inForce.keyText) === pair.privateKeyPem && fingerprintOfPem(pair.certificatePem) === servedFingerprint;
}

/** The names of the certificate in force first (clients use them today), then those found now and --san, each once. */
export function namesForNewCertificate(served: X509Certificate, foundNow: string[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const name of [...parseSubjectAltName(served.subjectAltName), ...foundNow]) {
    const normal = name.startsWith('DNS:') ? `DNS:${name.slice(4).toLowerCase()}` : name;
    // Node writes IPv6 addresses in full (0:0:0:0:0:0:0:1); the host's own list says ::1. One entry per address.
    const bytes = normal.startsWith('IP:') ? ipAddressBytes(normal.slice(3)) : undefined;
    const key = bytes ? `IP:${bytes.toString('hex')}` : normal;
    if (seen.has(key)) continue;
    seen.add(key);
    names.push(normal);
  }
  return names;
}

/** The served certificate's CN, kept for the new one (monitoring and clients may show it). */
export function commonNameOf(served: X509Certificate): string | undefined {
  return /(?:^|\n)CN=([^\n]+)/.exec(served.subject)?.[1];
}

/** The key type of the certificate in force, so that a rotation changes no client's expectations; the default for what pgssl does not issue. */
export function keySpecOfCertificate(served: X509Certificate): KeySpec {
  const key = served.publicKey;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && [2048, 3072, 4096].includes(details?.modulusLength ?? 0)) return { type: 'rsa', bits: details!.modulusLength as 2048 | 3072 | 4096 };
  if (key.asymmetricKeyType === 'ec' && (details?.namedCurve === 'prime256v1' || details?.namedCurve === 'secp384r1')) return { type: 'ecdsa', curve: details.namedCurve };
  return defaultKeySpec;
}
