/**
 * Reading certificates and keys with Node's native X509 support (fast to load;
 * forge is only needed to build certificates). Pure but for the clock.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { colonFingerprint, fingerprintOfDer } from './fingerprint.js';

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  subjectAltNames: string[];
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  keyType: string;
  keyBits: number | undefined;
  selfSigned: boolean;
  isCA: boolean;
  fingerprintSha256: string;
}

const dayMs = 86_400_000;

export function summarizeCertificate(cert: X509Certificate, now: Date = new Date()): CertificateSummary {
  const details = cert.publicKey.asymmetricKeyDetails;
  return {
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    serialNumber: cert.serialNumber,
    subjectAltNames: parseSubjectAltName(cert.subjectAltName),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    daysLeft: Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / dayMs),
    keyType: cert.publicKey.asymmetricKeyType ?? 'unknown',
    keyBits: details?.modulusLength ?? curveBits(details?.namedCurve),
    selfSigned: isSelfSigned(cert),
    isCA: cert.ca,
    fingerprintSha256: colonFingerprint(fingerprintOfDer(cert.raw)),
  };
}

/** Same subject and issuer, signed by its own key (checkIssued would also demand keyCertSign). */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

/** "DNS:a, IP Address:1.2.3.4" → ["DNS:a", "IP:1.2.3.4"] */
export function parseSubjectAltName(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/,\s*/)
    .map((entry) => entry.replace(/^IP Address:/, 'IP:'))
    .filter((entry) => entry.length > 0);
}

function oneLineName(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

function curveBits(curve: string | undefined): number | undefined {
  const match = curve ? /(\d{3})/.exec(curve) : null;
  return match ? Number(match[1]) : undefined;
}

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

export interface PemBlock {
  label: string;
  text: string;
}

export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(pemBlock)].map((m) => ({ label: m[1], text: m[0] }));
}

/** Every certificate in a PEM file (a server certificate may come with its chain). */
export function parseCertificates(pem: string): X509Certificate[] {
  return pemBlocks(pem)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => new X509Certificate(block.text));
}

export type PrivateKeyReading =
  | { kind: 'key'; key: KeyObject }
  | { kind: 'encrypted' }
  | { kind: 'invalid'; reason: string };

export function readPrivateKey(pem: string): PrivateKeyReading {
  const blocks = pemBlocks(pem);
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY') || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    return { kind: 'encrypted' };
  }
  if (!blocks.some((b) => /PRIVATE KEY$/.test(b.label))) return { kind: 'invalid', reason: 'no PEM private key found' };
  try {
    return { kind: 'key', key: createPrivateKey(pem) };
  } catch (error) {
    return { kind: 'invalid', reason: (error as Error).message };
  }
}
