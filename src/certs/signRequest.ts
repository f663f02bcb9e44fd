/**
 * `pgssl ca sign`'s judgement of a certificate request, and the certificate
 * it issues for one. A request is only a wish: its own signature proves the
 * requester holds the key; its key must suit every PostgreSQL client (the
 * rule enable applies to a server certificate, serverUse.ts); it must name
 * at least one host, each a DNS name or an IP address; and it must not ask
 * for a CA or for a purpose other than serverAuth. The certificate then gets
 * the request's CN, public key and names, and nothing else of it: its
 * extensions are built by pgssl's one builder (build.ts), as every server
 * certificate pgssl issues. Pure but for the clock.
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { isCertificateIp, isDnsName } from '../commands/optionRules.js';
import { buildServerCertificateForKey, oid, type Issuer } from './build.js';
import { describeKey, serverKeyProblems } from './serverUse.js';
import { certificateAltNames, sameAltNames, type ParsedRequest } from './requestParse.js';

/** Signature algorithms a request may be signed with: the hash each one verifies with (null: EdDSA hashes itself). */
const signatureHashes: Record<string, { name: string; hash: string | null }> = {
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', hash: null },
  '1.3.101.113': { name: 'Ed448', hash: null },
};
const weakSignatures: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
};

const ekuNames: Record<string, string> = { [oid.clientAuth]: 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning', '1.3.6.1.5.5.7.3.4': 'emailProtection', '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning' };

const remake = 'Make a new request on the database host: pgssl cert request --out-dir DIR.';

/** Every reason to refuse the request, one sentence each with its fix; [] when it can be signed. */
export function requestProblems(request: ParsedRequest, path: string): string[] {
  const problems: string[] = [];
  const key = request.publicKey;
  if (!key) problems.push(`its public key cannot be read (${request.keyProblem}). ${remake}`);
  else {
    problems.push(...signatureProblems(request, key));
    problems.push(...keyProblems(key, path));
  }
  if (request.altNames.length === 0) problems.push(`it names no host (no DNS name or IP address in a subjectAltName), so no client could verify the certificate with sslmode=verify-full. Make a new request on the database host: pgssl cert request --out-dir DIR (--san adds names).`);
  for (const entry of request.altNames) {
    const [kind, value] = [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)];
    if (kind === 'DNS' ? !isDnsName(value) : !isCertificateIp(value)) problems.push(`"${value}" is not a valid DNS name (letters, digits, hyphens and dots, optionally *. first). ${remake}`);
  }
  for (const other of request.otherNames) problems.push(`it asks for the name ${other}, which is neither a DNS name nor an IP address: a server certificate names hosts only. ${remake}`);
  if (request.asksForCa) problems.push(`it asks to be a CA (basicConstraints CA:TRUE): a server's certificate must not be able to sign others. ${remake}`);
  if (request.keyUsage?.includes('keyCertSign')) problems.push(`it asks for keyUsage keyCertSign, the right to sign certificates, which only a CA has. ${remake}`);
  if (request.extKeyUsage && !request.extKeyUsage.includes(oid.serverAuth)) {
    const asked = request.extKeyUsage.map((id) => ekuNames[id] ?? id).join(', ');
    problems.push(`it asks for extendedKeyUsage ${asked}, without serverAuth: it is not a server's request${request.extKeyUsage.includes(oid.clientAuth) ? ' (clientAuth: a client certificate, see pgssl client-cert)' : ''}. ${remake}`);
  }
  return problems;
}

/** The request is signed by the key it carries (proof of possession), with an algorithm pgssl accepts. */
export function verifiesItself(request: ParsedRequest): boolean {
  return request.publicKey !== undefined && signatureProblems(request, request.publicKey).length === 0;
}

function signatureProblems(request: ParsedRequest, key: KeyObject): string[] {
  const weak = weakSignatures[request.signatureAlgorithmOid];
  if (weak) return [`it is signed with ${weak}, a broken hash. ${remake}`];
  const algorithm = signatureHashes[request.signatureAlgorithmOid];
  if (!algorithm) return [`it is signed with the algorithm ${request.signatureAlgorithmOid}, which pgssl does not check (RSA PKCS#1 v1.5, ECDSA or EdDSA). ${remake}`];
  let valid: boolean;
  try {
    valid = verify(algorithm.hash, request.infoDer, { key, dsaEncoding: 'der' }, request.signature);
  } catch {
    valid = false; // a key of another type than the algorithm, or a malformed signature
  }
  return valid ? [] : [`its signature (${algorithm.name}) does not verify with its own public key: the file was altered or damaged after it was signed, or the request was not made with this key. ${remake}`];
}

/** serverKeyProblems (what enable refuses, with the same reasons), and P-521: pgssl issues P-256 and P-384 keys only. */
function keyProblems(key: KeyObject, path: string): string[] {
  // The reasons enable gives for a server certificate with such a key.
  const refused = serverKeyProblems(key, path).map((problem) => `its key cannot serve PostgreSQL clients — ${problem.message.slice(path.length + 2)}. ${problem.fix}`);
  const { type, curve } = describeKey(key);
  if (refused.length === 0 && type === 'ec' && curve !== 'P-256' && curve !== 'P-384') refused.push(`its key is ECDSA ${curve}; pgssl ca sign accepts ECDSA P-256 or P-384 and RSA of 2048 bits or more (what pgssl cert request makes). ${remake}`);
  return refused;
}

/** The certificate's CN: the request's, else its first name. */
export function commonNameFor(request: ParsedRequest): string {
  return request.commonName ?? request.altNames[0].slice(request.altNames[0].indexOf(':') + 1);
}

/** A server certificate for a request that requestProblems accepted. Throws UsageError for a CN no certificate can hold. */
export function issueForRequest(request: ParsedRequest, ca: Issuer, days: number, now?: Date): string {
  const publicKeyPem = createPublicKey({ key: request.spkiDer, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }) as string;
  return buildServerCertificateForKey({ commonName: commonNameFor(request), subjectAltNames: request.altNames, days, publicKeyPem, now }, ca);
}

/**
 * Why an existing certificate file does not already answer the request
 * (undefined when it does: issued by this CA, for this key, with exactly
 * these names, and valid beyond `renewWithinDays`).
 */
export function existingCertificateMismatch(certificatePem: string, request: ParsedRequest, ca: Issuer, renewWithinDays: number, now = new Date()): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch {
    return 'it is not a PEM certificate';
  }
  const caCert = new X509Certificate(ca.certificatePem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'it was not issued by this CA';
  if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(request.spkiDer)) return 'it certifies another key than the request';
  if (!sameAltNames(certificateAltNames(cert.raw), request.altNames)) return 'its names differ from the request';
  if (new Date(cert.validTo).getTime() - now.getTime() <= renewWithinDays * 86_400_000) return `it expires within ${renewWithinDays} days (${new Date(cert.validTo).toISOString()})`;
  return undefined;
}
