/**
 * X.509 certificates built and signed with node-forge: a private CA, server
 * certificates it signs (for sslmode=verify-full), self-signed server
 * certificates, and client certificates (for cert auth). Pure but for the
 * clock and the random serial.
 */
import { randomBytes, sign as nativeSign } from 'node:crypto';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import type * as Forge from 'node-forge';

// Loaded on first use, as CommonJS: commands that build no certificate never pay for it. Only the
// X.509 part (asn1, pki, oids, pem, rsa, the digests) — forge's index also loads TLS, SSH, PKCS#7/#12
// and more: ~35 ms instead of ~50.
let forgeModule: typeof Forge | undefined;
function loadForge(): typeof Forge {
  if (!forgeModule) {
    const require = createRequire(import.meta.url);
    require('node-forge/lib/x509');
    forgeModule = require('node-forge/lib/forge') as typeof Forge;
  }
  return forgeModule;
}

/** Loads the certificate builder now, e.g. while keys are still being generated. */
export function prepareCertificateBuilder(): void {
  loadForge();
}
import type { KeyPairPem } from './keys.js';

export interface Issuer {
  certificatePem: string;
  privateKeyPem: string;
}

export interface CertificateRequest {
  commonName: string;
  /** "DNS:name" / "IP:addr", or bare names and addresses (the kind is guessed). */
  subjectAltNames?: string[];
  days: number;
  keys: KeyPairPem;
  now?: Date;
}

const backdateMs = 5 * 60_000; // clients whose clock runs a little behind still accept it

/** A 128-bit random positive serial, as hex (RFC 5280 wants at most 20 octets, positive). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString('hex');
}

function validity(cert: Forge.pki.Certificate, days: number, now = new Date()): void {
  cert.validity.notBefore = new Date(now.getTime() - backdateMs);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
}

export function altNameEntries(names: string[]): { type: number; value?: string; ip?: string }[] {
  return names.map((name) => {
    const [kind, value] = /^(DNS|IP):/i.test(name) ? [name.slice(0, name.indexOf(':')).toUpperCase(), name.slice(name.indexOf(':') + 1)] : [isIP(name) ? 'IP' : 'DNS', name];
    return kind === 'IP' ? { type: 7, ip: value } : { type: 2, value };
  });
}

/** PEM with \n line ends and a final newline: a bundle built by concatenation stays loadable. */
export function normalizePem(pem: string): string {
  const text = pem.replace(/\r\n/g, '\n');
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** SHA-1 of the public key (RFC 5280 4.2.1.2, method 1), as forge writes it into subjectKeyIdentifier. */
function keyIdentifierBytes(cert: Forge.pki.Certificate): string {
  return cert.generateSubjectKeyIdentifier().getBytes();
}

/** forge lays out the certificate; OpenSSL (through Node) signs it: ~30x faster than forge's JS RSA. */
function sign(cert: Forge.pki.Certificate, issuerKeyPem: string): string {
  const withSignature = cert as Forge.pki.Certificate & { tbsCertificate: Forge.asn1.Asn1; signature: string };
  cert.siginfo.algorithmOid = cert.signatureOid = loadForge().pki.oids.sha256WithRSAEncryption;
  withSignature.tbsCertificate = (loadForge().pki as unknown as { getTBSCertificate(c: Forge.pki.Certificate): Forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbsDer = Buffer.from(loadForge().asn1.toDer(withSignature.tbsCertificate).getBytes(), 'binary');
  withSignature.signature = nativeSign('sha256', tbsDer, issuerKeyPem).toString('binary');
  return normalizePem(loadForge().pki.certificateToPem(cert));
}

export function buildCaCertificate(request: CertificateRequest): string {
  const cert = loadForge().pki.createCertificate();
  cert.publicKey = loadForge().pki.publicKeyFromPem(request.keys.publicKeyPem);
  cert.serialNumber = randomSerial();
  validity(cert, request.days, request.now);
  const subject = [{ name: 'commonName', value: request.commonName }, { name: 'organizationName', value: 'pgssl' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return sign(cert, request.keys.privateKeyPem);
}

function buildLeaf(request: CertificateRequest, issuer: Issuer | 'self', usage: 'serverAuth' | 'clientAuth'): string {
  const cert = loadForge().pki.createCertificate();
  cert.publicKey = loadForge().pki.publicKeyFromPem(request.keys.publicKeyPem);
  cert.serialNumber = randomSerial();
  validity(cert, request.days, request.now);
  cert.setSubject([{ name: 'commonName', value: request.commonName }]);
  const issuerCert = issuer === 'self' ? cert : loadForge().pki.certificateFromPem(issuer.certificatePem);
  cert.setIssuer(issuer === 'self' ? cert.subject.attributes : issuerCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    // A self-signed certificate is its own issuer: OpenSSL wants keyCertSign on an issuer.
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: issuer === 'self', critical: true },
    { name: 'extKeyUsage', serverAuth: usage === 'serverAuth', clientAuth: usage === 'clientAuth' },
    { name: 'subjectKeyIdentifier' },
  ];
  if (issuer !== 'self') extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifierBytes(issuerCert) });
  if (request.subjectAltNames?.length) extensions.push({ name: 'subjectAltName', altNames: altNameEntries(request.subjectAltNames) });
  cert.setExtensions(extensions);
  return sign(cert, issuer === 'self' ? request.keys.privateKeyPem : issuer.privateKeyPem);
}

export function buildServerCertificate(request: CertificateRequest, issuer: Issuer): string {
  return buildLeaf(request, issuer, 'serverAuth');
}

export function buildSelfSignedServerCertificate(request: CertificateRequest): string {
  return buildLeaf(request, 'self', 'serverAuth');
}

export function buildClientCertificate(request: CertificateRequest, issuer: Issuer): string {
  return buildLeaf(request, issuer, 'clientAuth');
}
