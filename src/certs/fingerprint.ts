/**
 * The one certificate fingerprint: SHA-256 of the DER bytes, lower-case hex.
 * The file pgssl installed and the certificate the server serves in a
 * handshake are compared through it (enable, status, rotate). Pure.
 */
import { X509Certificate, createHash } from 'node:crypto';

export function fingerprintOfDer(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

export function fingerprintOfPem(certificatePem: string): string {
  return fingerprintOfDer(new X509Certificate(certificatePem).raw);
}

/** The first certificate of a handshake's chain, or undefined when none was served. */
export function servedFingerprint(chainDer: Buffer[]): string | undefined {
  return chainDer[0] ? fingerprintOfDer(chainDer[0]) : undefined;
}

/** As openssl x509 -fingerprint prints it: AB:CD:… */
export function colonFingerprint(hex: string): string {
  return hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');
}
