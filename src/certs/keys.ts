/**
 * Key pairs from Node's native generator (OpenSSL underneath): ECDSA P-256 by
 * default (what CloudNativePG and Crunchy PGO issue, supported by every
 * libpq, pgJDBC, Npgsql, node-pg and Go client; ~0.1 ms to make, so made on
 * the spot: starting libuv's thread pool for it took ten times longer), or
 * RSA with --key-type rsa (~85 ms and very variable for 2048 bits, on
 * libuv's thread pool so the event loop stays free and two keys use two cores).
 */
import { generateKeyPair as generateNativeKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';

export const rsaSizes = [2048, 3072, 4096] as const;
export type RsaBits = (typeof rsaSizes)[number];
export const keyTypes = ['ecdsa', 'rsa'] as const;
export type KeyType = (typeof keyTypes)[number];

/** OpenSSL's names for the curves, as Node's asymmetricKeyDetails.namedCurve reports them. */
export type EcCurve = 'prime256v1' | 'secp384r1';

export type KeySpec = { type: 'ecdsa'; curve: EcCurve } | { type: 'rsa'; bits: RsaBits };

export const defaultKeySpec: KeySpec = { type: 'ecdsa', curve: 'prime256v1' };

export interface KeyPairPem {
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"): PostgreSQL, libpq and OpenSSL read it for both key types. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
  spec: KeySpec;
  /** The private key itself, when it was made here: other encodings (client-cert's PKCS#8 DER) and signing need not parse the PEM again. */
  privateKey?: KeyObject;
}

/**
 * The key the DBA asked for: --key-type ecdsa (default) or rsa, --rsa-bits
 * only with rsa. `rsaBitsGiven` says the DBA typed --rsa-bits (commander
 * fills in its default otherwise), so that `--rsa-bits 4096` without
 * `--key-type rsa` is refused instead of silently making a P-256 key.
 */
export function keySpecFrom(keyType: string | undefined, rsaBits: string | number | undefined, rsaBitsGiven = false): KeySpec {
  const type = keyType ?? 'ecdsa';
  if (type !== 'ecdsa' && type !== 'rsa') throw new UsageError(`--key-type ${type} is not supported; use ecdsa (P-256, the default) or rsa (with --rsa-bits 2048, 3072 or 4096)`);
  if (type === 'ecdsa') {
    if (rsaBitsGiven) throw new UsageError('--rsa-bits goes with --key-type rsa; ECDSA keys (the default) are P-256. Add --key-type rsa for an RSA key, or drop --rsa-bits.');
    return defaultKeySpec;
  }
  const bits = Number(rsaBits ?? 2048);
  if (!(rsaSizes as readonly number[]).includes(bits)) throw new UsageError(`--rsa-bits ${rsaBits} is not supported; use 2048, 3072 or 4096`);
  return { type: 'rsa', bits: bits as RsaBits };
}

export function sameKeySpec(a: KeySpec, b: KeySpec): boolean {
  return a.type === 'rsa' ? b.type === 'rsa' && a.bits === b.bits : b.type === 'ecdsa' && a.curve === b.curve;
}

/** "ECDSA P-256", "RSA 2048": how reports and spinners name a key. */
export function describeKeySpec(spec: KeySpec): string {
  return spec.type === 'rsa' ? `RSA ${spec.bits}` : `ECDSA ${spec.curve === 'prime256v1' ? 'P-256' : 'P-384'}`;
}

export function generateKeyPair(spec: KeySpec): Promise<KeyPairPem> {
  const encodings = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;
  if (spec.type === 'ecdsa') {
    try {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: spec.curve });
      return Promise.resolve({ privateKeyPem: privateKey.export(encodings.privateKeyEncoding) as string, publicKeyPem: publicKey.export(encodings.publicKeyEncoding) as string, spec, privateKey });
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise((resolve, reject) => {
    generateNativeKeyPair('rsa', { modulusLength: spec.bits, ...encodings }, (error: Error | null, publicKeyPem: string, privateKeyPem: string) => (error ? reject(error) : resolve({ privateKeyPem, publicKeyPem, spec })));
  });
}

export function generateRsaKeyPair(bits: RsaBits): Promise<KeyPairPem> {
  return generateKeyPair({ type: 'rsa', bits });
}
