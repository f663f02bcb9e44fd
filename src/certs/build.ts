/**
 * X.509 certificates for both key types, with one builder: a private CA,
 * server certificates it signs (for sslmode=verify-full), self-signed server
 * certificates, and client certificates (for cert auth). The TBSCertificate
 * (der.ts, on forge's ASN.1) embeds the SubjectPublicKeyInfo exactly as Node's
 * crypto exports it, and Node's crypto signs it with whatever key the issuer
 * has (signing.ts). Pure but for the clock and the random serial.
 */
import { createHash, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';
import { parseAltName } from './altNames.js';
import { bitString, childrenOf, contentOf, dottedOid, encode, explicit, implicit, isContextTag, loadDerEncoder, namedBits, nullValue, objectId, parse, pem, primitive, sequence, set, time, trueValue, universal, type DerNode } from './der.js';
import { directoryString } from './directoryString.js';
import type { KeyPairPem } from './keys.js';
import { signDer, signingKeyFrom } from './signing.js';

/** Loads the certificate builder now, e.g. while keys are still being generated. */
export function prepareCertificateBuilder(): void {
  loadDerEncoder();
}

export interface Issuer {
  certificatePem: string;
  privateKeyPem: string;
  /** The same two, parsed, when whoever read them did (readCa): not parsed again for each certificate signed. */
  parsed?: { certificate: X509Certificate; privateKey: KeyObject };
}

export interface CertificateRequest {
  commonName: string;
  /** "DNS:name" / "IP:addr", or bare names and addresses (the kind is guessed). */
  subjectAltNames?: string[];
  days: number;
  keys: KeyPairPem;
  now?: Date;
}

type Profile = 'ca' | 'server' | 'client';

const backdateMs = 5 * 60_000; // clients whose clock runs a little behind still accept it
export const oid = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

// keyUsage bit numbers (RFC 5280 §4.2.1.3).
const keyUsageBit = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

/** PEM with \n line ends and a final newline: a bundle built by concatenation stays loadable. */
export function normalizePem(pem: string): string {
  const text = pem.replace(/\r\n/g, '\n');
  return text.endsWith('\n') ? text : `${text}\n`;
}

export function buildCaCertificate(request: CertificateRequest): string {
  return build(request, 'self', 'ca');
}

export function buildServerCertificate(request: CertificateRequest, issuer: Issuer): string {
  return build(request, issuer, 'server');
}

/** Its own issuer, yet CA:FALSE: so it asserts no keyCertSign (RFC 5280 §4.2.1.3); clients pin it as their root. */
export function buildSelfSignedServerCertificate(request: CertificateRequest): string {
  return build(request, 'self', 'server');
}

export function buildClientCertificate(request: CertificateRequest, issuer: Issuer): string {
  return build(request, issuer, 'client');
}

/** A server certificate for a public key alone (a certificate request's, `pgssl ca sign`): only the issuer's private key is needed. */
export function buildServerCertificateForKey(request: Omit<CertificateRequest, 'keys'> & { publicKeyPem: string }, issuer: Issuer): string {
  return build({ ...request, keys: { publicKeyPem: request.publicKeyPem } }, issuer, 'server');
}

/** What build reads: the subject's private key only when it signs itself. */
type BuildRequest = Omit<CertificateRequest, 'keys'> & { keys: Pick<KeyPairPem, 'publicKeyPem'> & Partial<Pick<KeyPairPem, 'privateKeyPem' | 'privateKey'>> };

function build(request: BuildRequest, issuer: Issuer | 'self', profile: Profile): string {
  const subjectKey = createPublicKey(request.keys.publicKeyPem);
  const spkiDer = subjectKey.export({ type: 'spki', format: 'der' });
  const signer = signingKeyFrom(issuer === 'self' ? (request.keys.privateKey ?? request.keys.privateKeyPem!) : (issuer.parsed?.privateKey ?? issuer.privateKeyPem), issuer === 'self' ? 'the new key' : 'the CA key');
  const subject = nameOf(profile === 'ca' ? [[oid.commonName, request.commonName], [oid.organizationName, 'pgssl']] : [[oid.commonName, request.commonName]]);
  const issuerCert = issuer === 'self' ? undefined : (issuer.parsed?.certificate ?? new X509Certificate(issuer.certificatePem));
  const issuerFields = issuerCert ? tbsFieldsOf(issuerCert.raw) : undefined;
  const algorithm = sequence([objectId(signer.algorithm.oid), ...(signer.algorithm.nullParameters ? [nullValue()] : [])]);
  const subjectKeyId = keyIdentifier(spkiDer);
  // The issuer's own subjectKeyIdentifier when it has one (OpenSSL and Go match them), else computed the same way.
  const authorityKeyId = issuerCert ? (issuerFields!.subjectKeyIdentifier ?? keyIdentifier(issuerCert.publicKey.export({ type: 'spki', format: 'der' }))) : subjectKeyId;
  const extensions = [
    extension(oid.basicConstraints, true, sequence(profile === 'ca' ? [trueValue()] : [])),
    extension(oid.keyUsage, true, namedBits(keyUsageFor(profile, subjectKey).map((usage) => keyUsageBit[usage]))),
    ...(profile === 'ca' ? [] : [extension(oid.extKeyUsage, false, sequence([objectId(profile === 'server' ? oid.serverAuth : oid.clientAuth)]))]),
    extension(oid.subjectKeyIdentifier, false, primitive(universal.octetString, subjectKeyId)),
    // RFC 5280 §4.2.1.1: in every certificate but a self-signed CA; strict verifiers (Python cryptography's) demand it on a self-signed leaf.
    extension(oid.authorityKeyIdentifier, false, sequence([implicit(0, authorityKeyId)])),
    ...(request.subjectAltNames?.length ? [extension(oid.subjectAltName, false, subjectAltNames(request.subjectAltNames))] : []),
  ];
  const now = request.now ?? new Date();
  const tbs = sequence([
    explicit(0, [primitive(universal.integer, Buffer.from([2]))]), // v3
    primitive(universal.integer, randomSerial()),
    algorithm,
    issuerFields ? issuerFields.subject : subject, // the issuer's subject byte for byte: Go matches chains on raw bytes
    sequence([time(new Date(now.getTime() - backdateMs)), time(notAfter(now, request.days))]),
    subject,
    parse(spkiDer), // exactly what OpenSSL exported, for RSA and EC alike
    explicit(3, [sequence(extensions)]),
  ]);
  const signature = signDer(encode(tbs), signer);
  return pem('CERTIFICATE', encode(sequence([tbs, algorithm, bitString(signature)])));
}

function keyUsageFor(profile: Profile, subjectKey: KeyObject): (keyof typeof keyUsageBit)[] {
  if (profile === 'ca') return ['keyCertSign', 'cRLSign'];
  // keyEncipherment is RSA key transport; RFC 5480 §3 forbids it for EC keys.
  return subjectKey.asymmetricKeyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

/** A 128-bit random positive serial (RFC 5280 §4.1.2.2: at most 20 octets, positive), minimal DER. */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes;
}

function notAfter(now: Date, days: number): Date {
  const end = new Date(now.getTime() + days * 86_400_000);
  // GeneralizedTime has four year digits; beyond that no client can read the date.
  if (!Number.isFinite(end.getTime()) || end.getUTCFullYear() > 9999) throw new UsageError(`a validity of ${days} days ends after the year 9999, which a certificate cannot express; give fewer --days`);
  return end;
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
function keyIdentifier(spkiDer: Buffer): Buffer {
  const bits = contentOf(childrenOf(parse(spkiDer))[1]).subarray(1); // past the unused-bits octet
  return createHash('sha1').update(bits).digest();
}

/** A Name (RDNSequence) of one attribute per RDN, each a DirectoryString (directoryString.ts). Throws UsageError for a name no certificate can hold exactly. */
export function nameOf(attributes: [string, string][]): DerNode {
  return sequence(
    attributes.map(([type, value]) => {
      let text;
      try {
        text = directoryString(value);
      } catch (error) {
        throw new UsageError(`cannot put this name in a certificate: ${(error as Error).message}`);
      }
      return set([sequence([objectId(type), primitive(text.kind === 'printable' ? universal.printableString : universal.utf8String, text.bytes)])]);
    }),
  );
}

/** GeneralNames from pgssl's "DNS:name" / "IP:address" entries. Throws UsageError for one a certificate cannot hold. */
export function subjectAltNames(names: string[]): DerNode {
  return sequence(
    names.map((entry) => {
      let name;
      try {
        name = parseAltName(entry);
      } catch (error) {
        throw new UsageError(`cannot put this name in the certificate: ${(error as Error).message}`);
      }
      // GeneralName: dNSName [2] IMPLICIT IA5String, iPAddress [7] IMPLICIT OCTET STRING.
      return name.kind === 'DNS' ? implicit(2, Buffer.from(name.name, 'ascii')) : implicit(7, name.bytes);
    }),
  );
}

export function extension(id: string, critical: boolean, value: DerNode): DerNode {
  return sequence([objectId(id), ...(critical ? [trueValue()] : []), primitive(universal.octetString, encode(value))]);
}

/** The issuer's subject (a node that encodes to the same bytes) and its subjectKeyIdentifier, if it has one. */
function tbsFieldsOf(certificateDer: Buffer): { subject: DerNode; subjectKeyIdentifier?: Buffer } {
  const tbs = childrenOf(childrenOf(parse(certificateDer))[0]);
  const offset = isContextTag(tbs[0], 0) ? 1 : 0; // the version is optional (v1)
  const extensions = tbs.find((field) => isContextTag(field, 3));
  let subjectKeyIdentifier: Buffer | undefined;
  for (const ext of extensions ? childrenOf(childrenOf(extensions)[0]) : []) {
    const fields = childrenOf(ext);
    if (dottedOid(fields[0]) === oid.subjectKeyIdentifier) subjectKeyIdentifier = contentOf(parse(contentOf(fields[fields.length - 1])));
  }
  return { subject: tbs[offset + 4], subjectKeyIdentifier };
}
