/**
 * X.509 certificates for both key types, with one builder: a private CA,
 * server certificates it signs (for sslmode=verify-full), self-signed server
 * certificates, and client certificates (for cert auth). node-forge cannot
 * encode EC keys, so forge is used only for its ASN.1 encoder: the
 * TBSCertificate embeds the SubjectPublicKeyInfo exactly as Node's crypto
 * exports it, and Node's crypto signs it with whatever key the issuer has
 * (signing.ts). Pure but for the clock and the random serial.
 */
import { createHash, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Forge from 'node-forge';
import { UsageError } from '../errors.js';
import { parseAltName } from './altNames.js';
import { directoryString } from './directoryString.js';
import type { KeyPairPem } from './keys.js';
import { signDer, signingKeyFrom, type SigningKey } from './signing.js';

type Asn1 = typeof Forge.asn1;
type Node = Forge.asn1.Asn1;

// Loaded on first use, as CommonJS: commands that build no certificate never pay for it. Only the
// ASN.1 encoder (asn1, util, oids): none of forge's RSA, PKI, TLS or PKCS#12 code.
let asn1Module: Asn1 | undefined;
function loadAsn1(): Asn1 {
  return (asn1Module ??= createRequire(import.meta.url)('node-forge/lib/asn1') as Asn1);
}

/** Loads the certificate builder now, e.g. while keys are still being generated. */
export function prepareCertificateBuilder(): void {
  loadAsn1();
}

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

type Profile = 'ca' | 'server' | 'client';

const backdateMs = 5 * 60_000; // clients whose clock runs a little behind still accept it
const oid = {
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

function build(request: CertificateRequest, issuer: Issuer | 'self', profile: Profile): string {
  const asn1 = loadAsn1();
  const subjectKey = createPublicKey(request.keys.publicKeyPem);
  const spkiDer = subjectKey.export({ type: 'spki', format: 'der' });
  const signer: SigningKey = signingKeyFrom(issuer === 'self' ? request.keys.privateKeyPem : issuer.privateKeyPem, issuer === 'self' ? 'the new key' : 'the CA key');
  const subject = nameOf(asn1, profile === 'ca' ? [[oid.commonName, request.commonName], [oid.organizationName, 'pgssl']] : [[oid.commonName, request.commonName]]);
  const issuerCert = issuer === 'self' ? undefined : new X509Certificate(issuer.certificatePem);
  const issuerFields = issuerCert ? tbsFieldsOf(asn1, issuerCert.raw) : undefined;
  const algorithm = seq(asn1, [oidNode(asn1, signer.algorithm.oid), ...(signer.algorithm.nullParameters ? [prim(asn1, asn1.Type.NULL, '')] : [])]);
  const subjectKeyId = keyIdentifier(spkiDer);
  // The issuer's own subjectKeyIdentifier when it has one (OpenSSL and Go match them), else computed the same way.
  const authorityKeyId = issuerCert ? (issuerFields!.subjectKeyIdentifier ?? keyIdentifier(issuerCert.publicKey.export({ type: 'spki', format: 'der' }))) : subjectKeyId;
  const extensions = [
    extension(asn1, oid.basicConstraints, true, seq(asn1, profile === 'ca' ? [prim(asn1, asn1.Type.BOOLEAN, '\xff')] : [])),
    extension(asn1, oid.keyUsage, true, keyUsage(asn1, keyUsageFor(profile, subjectKey))),
    ...(profile === 'ca' ? [] : [extension(asn1, oid.extKeyUsage, false, seq(asn1, [oidNode(asn1, profile === 'server' ? oid.serverAuth : oid.clientAuth)]))]),
    extension(asn1, oid.subjectKeyIdentifier, false, prim(asn1, asn1.Type.OCTETSTRING, subjectKeyId.toString('binary'))),
    // RFC 5280 §4.2.1.1: in every certificate but a self-signed CA; strict verifiers (Python cryptography's) demand it on a self-signed leaf.
    extension(asn1, oid.authorityKeyIdentifier, false, seq(asn1, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, authorityKeyId.toString('binary'))])),
    ...(request.subjectAltNames?.length ? [extension(asn1, oid.subjectAltName, false, subjectAltNames(asn1, request.subjectAltNames))] : []),
  ];
  const now = request.now ?? new Date();
  const tbs = seq(asn1, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [prim(asn1, asn1.Type.INTEGER, '\x02')]), // v3
    prim(asn1, asn1.Type.INTEGER, randomSerial().toString('binary')),
    algorithm,
    issuerFields ? issuerFields.subject : subject, // the issuer's subject byte for byte: Go matches chains on raw bytes
    seq(asn1, [time(asn1, new Date(now.getTime() - backdateMs)), time(asn1, notAfter(now, request.days))]),
    subject,
    fromDer(asn1, spkiDer), // exactly what OpenSSL exported, for RSA and EC alike
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(asn1, extensions)]),
  ]);
  const tbsDer = toDer(asn1, tbs);
  const signature = signDer(tbsDer, signer);
  const certificate = toDer(asn1, seq(asn1, [tbs, algorithm, prim(asn1, asn1.Type.BITSTRING, `\x00${signature.toString('binary')}`)]));
  return pem('CERTIFICATE', certificate);
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

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(asn1: Asn1, date: Date): Node {
  return date.getUTCFullYear() < 2050 ? prim(asn1, asn1.Type.UTCTIME, asn1.dateToUtcTime(date)) : prim(asn1, asn1.Type.GENERALIZEDTIME, asn1.dateToGeneralizedTime(date));
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
function keyIdentifier(spkiDer: Buffer): Buffer {
  const bitString = (fromDer(loadAsn1(), spkiDer).value as Node[])[1];
  return createHash('sha1').update(Buffer.from((bitString.value as string).slice(1), 'binary')).digest();
}

function nameOf(asn1: Asn1, attributes: [string, string][]): Node {
  return seq(
    asn1,
    attributes.map(([type, value]) => {
      let text;
      try {
        text = directoryString(value);
      } catch (error) {
        throw new UsageError(`cannot put this name in a certificate: ${(error as Error).message}`);
      }
      const tag = text.kind === 'printable' ? asn1.Type.PRINTABLESTRING : asn1.Type.UTF8;
      return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [seq(asn1, [oidNode(asn1, type), prim(asn1, tag, text.bytes.toString('binary'))])]);
    }),
  );
}

function subjectAltNames(asn1: Asn1, names: string[]): Node {
  return seq(
    asn1,
    names.map((entry) => {
      let name;
      try {
        name = parseAltName(entry);
      } catch (error) {
        throw new UsageError(`cannot put this name in the certificate: ${(error as Error).message}`);
      }
      // GeneralName: dNSName [2] IMPLICIT IA5String, iPAddress [7] IMPLICIT OCTET STRING.
      return name.kind === 'DNS' ? asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, name.name) : asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, name.bytes.toString('binary'));
    }),
  );
}

/** A named-bit BIT STRING in DER: trailing zero bits dropped, their count in the first octet. */
function keyUsage(asn1: Asn1, usages: (keyof typeof keyUsageBit)[]): Node {
  let bits = 0;
  for (const usage of usages) bits |= 0x80 >> keyUsageBit[usage];
  let unused = 0;
  while (unused < 7 && !(bits & (1 << unused))) unused++;
  return prim(asn1, asn1.Type.BITSTRING, String.fromCharCode(unused, bits));
}

function extension(asn1: Asn1, id: string, critical: boolean, value: Node): Node {
  return seq(asn1, [oidNode(asn1, id), ...(critical ? [prim(asn1, asn1.Type.BOOLEAN, '\xff')] : []), prim(asn1, asn1.Type.OCTETSTRING, toDer(asn1, value).toString('binary'))]);
}

/** The issuer's subject (as an ASN.1 node that re-encodes to the same bytes) and its subjectKeyIdentifier. */
function tbsFieldsOf(asn1: Asn1, certificateDer: Buffer): { subject: Node; subjectKeyIdentifier?: Buffer } {
  const tbs = (fromDer(asn1, certificateDer).value as Node[])[0].value as Node[];
  const offset = tbs[0].tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const extensions = tbs.find((field) => field.tagClass === asn1.Class.CONTEXT_SPECIFIC && field.type === 3);
  let subjectKeyIdentifier: Buffer | undefined;
  for (const ext of extensions ? ((extensions.value as Node[])[0].value as Node[]) : []) {
    const [id, ...rest] = ext.value as Node[];
    if (asn1.derToOid(id.value as string) !== oid.subjectKeyIdentifier) continue;
    const inner = fromDer(asn1, Buffer.from(rest[rest.length - 1].value as string, 'binary'));
    subjectKeyIdentifier = Buffer.from(inner.value as string, 'binary');
  }
  return { subject: tbs[offset + 4], subjectKeyIdentifier };
}

function seq(asn1: Asn1, children: Node[]): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, children);
}

function prim(asn1: Asn1, type: number, binary: string): Node {
  return asn1.create(asn1.Class.UNIVERSAL, type, false, binary);
}

function oidNode(asn1: Asn1, id: string): Node {
  return prim(asn1, asn1.Type.OID, asn1.oidToDer(id).getBytes());
}

/** Parsed without looking inside BIT STRINGs, so that re-encoding gives back the same bytes. */
function fromDer(asn1: Asn1, der: Buffer): Node {
  return asn1.fromDer(der.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false } as never);
}

function toDer(asn1: Asn1, node: Node): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}
