/**
 * A certificate signing request (PKCS#10, RFC 2986) for a server key, so that
 * a CA on another machine can issue its certificate without ever holding the
 * key: the subject CN, and an extensionRequest (RFC 2985 §5.4.2) with the
 * names and extendedKeyUsage serverAuth, signed with the key itself (proof
 * of possession). The same DER pieces as every pgssl certificate (build.ts).
 * Pure but for the signature.
 */
import { createPublicKey } from 'node:crypto';
import { extension, nameOf, oid, subjectAltNames } from './build.js';
import { bitString, encode, implicitConstructed, nullValue, objectId, parse, pem, primitive, sequence, set, universal } from './der.js';
import { signDer, signingKeyFrom } from './signing.js';

export const extensionRequestOid = '1.2.840.113549.1.9.14';

export interface SigningRequestInput {
  commonName: string;
  /** "DNS:name" / "IP:address" entries, as defaultServerNames gives them. */
  names: string[];
  /** PKCS#8 PEM of the server's key: it signs the request and never goes into it. */
  privateKeyPem: string;
}

/** The PEM "CERTIFICATE REQUEST". Throws UsageError for a name a certificate cannot hold. */
export function buildSigningRequest(input: SigningRequestInput): string {
  const signer = signingKeyFrom(input.privateKeyPem, 'the server key');
  const spkiDer = createPublicKey(signer.key).export({ type: 'spki', format: 'der' });
  const extensions = sequence([
    ...(input.names.length ? [extension(oid.subjectAltName, false, subjectAltNames(input.names))] : []),
    extension(oid.extKeyUsage, false, sequence([objectId(oid.serverAuth)])),
  ]);
  const info = sequence([
    primitive(universal.integer, Buffer.from([0])), // v1, the only version (RFC 2986 §4.1)
    nameOf([[oid.commonName, input.commonName]]),
    parse(spkiDer),
    // attributes [0] IMPLICIT SET OF Attribute: one, the extensions the certificate should carry.
    implicitConstructed(0, [sequence([objectId(extensionRequestOid), set([extensions])])]),
  ]);
  const algorithm = sequence([objectId(signer.algorithm.oid), ...(signer.algorithm.nullParameters ? [nullValue()] : [])]);
  const infoDer = encode(info);
  return pem('CERTIFICATE REQUEST', encode(sequence([info, algorithm, bitString(signDer(infoDer, signer))])));
}
