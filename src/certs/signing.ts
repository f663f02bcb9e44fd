/**
 * The signature a certificate gets follows the issuer's key: RSA keys sign
 * sha256WithRSAEncryption, ECDSA keys ecdsa-with-SHA256/384/512 matched to the
 * curve's size (RFC 5758 §3.2; a P-384 CA signing with SHA-256 would weaken
 * it). OpenSSL (through Node's crypto) signs: fast and native. Pure but for
 * the signing itself.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface SignatureAlgorithm {
  /** "sha256WithRSAEncryption", "ecdsa-with-SHA256", …: what openssl x509 -text shows. */
  name: string;
  oid: string;
  /** RSA's AlgorithmIdentifier carries an explicit NULL (RFC 4055 §5); ECDSA's has no parameters (RFC 5758 §3.2). */
  nullParameters: boolean;
  hash: 'sha256' | 'sha384' | 'sha512';
}

const rsaSha256: SignatureAlgorithm = { name: 'sha256WithRSAEncryption', oid: '1.2.840.113549.1.1.11', nullParameters: true, hash: 'sha256' };
const ecdsaByCurve: Record<string, SignatureAlgorithm> = {
  prime256v1: { name: 'ecdsa-with-SHA256', oid: '1.2.840.10045.4.3.2', nullParameters: false, hash: 'sha256' },
  secp384r1: { name: 'ecdsa-with-SHA384', oid: '1.2.840.10045.4.3.3', nullParameters: false, hash: 'sha384' },
  secp521r1: { name: 'ecdsa-with-SHA512', oid: '1.2.840.10045.4.3.4', nullParameters: false, hash: 'sha512' },
};

/** The algorithm this key signs with. Throws UsageError for a key pgssl cannot sign certificates with. */
export function signatureAlgorithmFor(key: KeyObject, describedAs = 'the signing key'): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return rsaSha256;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && curve && ecdsaByCurve[curve]) return ecdsaByCurve[curve];
  const what = type === 'ec' ? `an EC key on the curve ${curve ?? 'with explicit parameters'}` : `a${type === 'rsa-pss' ? 'n' : ''} ${type ?? 'unknown'} key`;
  throw new UsageError(`${describedAs} is ${what}; pgssl signs certificates with RSA or ECDSA P-256, P-384 or P-521 keys. Give a CA whose key is one of those.`);
}

export interface SigningKey {
  key: KeyObject;
  algorithm: SignatureAlgorithm;
}

/** PKCS#8 or traditional PEM ("BEGIN RSA PRIVATE KEY", "BEGIN EC PRIVATE KEY"): OpenSSL reads all three. */
export function signingKeyFrom(privateKey: string | KeyObject, describedAs?: string): SigningKey {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return { key, algorithm: signatureAlgorithmFor(key, describedAs) };
}

/** The signature over `tbs`: PKCS#1 v1.5 for RSA, DER Ecdsa-Sig-Value for ECDSA (what X.509 expects). */
export function signDer(tbs: Buffer, signer: SigningKey): Buffer {
  return sign(signer.algorithm.hash, tbs, { key: signer.key, dsaEncoding: 'der' });
}
