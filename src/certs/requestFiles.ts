/**
 * What `pgssl cert request` does with the server.key and server.csr already
 * in its folder, so that a second run changes nothing: the key is kept
 * unless --force (a certificate may already have been issued for it); the
 * request is kept while it is signed by that key and names exactly what
 * would be asked now. Pure.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';
import { describeKeySpec, sameKeySpec, type KeySpec } from './keys.js';
import { parseSigningRequest, requestDerFromPem, sameAltNames } from './requestParse.js';
import { verifiesItself } from './signRequest.js';
import { readPrivateKey } from './x509.js';

export interface RequestWanted {
  key: KeySpec;
  commonName: string;
  names: string[];
  force: boolean;
}

export interface FoundFiles {
  keyPath: string;
  /** undefined: no such file. */
  keyText?: string;
  csrText?: string;
}

export type RequestDecision =
  | { key: 'new'; csr: 'new'; reason: string }
  | { key: 'keep'; keyPem: string; csr: 'new'; reason: string }
  | { key: 'keep'; keyPem: string; csr: 'keep' };

/** Throws UsageError for a key file that is there but cannot be kept (unreadable as a key, or another type than asked). */
export function decideRequestFiles(found: FoundFiles, wanted: RequestWanted): RequestDecision {
  if (wanted.force) return { key: 'new', csr: 'new', reason: '--force' };
  if (found.keyText === undefined) return { key: 'new', csr: 'new', reason: found.csrText === undefined ? 'none yet' : 'the request has no key beside it' };
  const key = readPrivateKey(found.keyText);
  if (key.kind !== 'key') {
    throw new UsageError(`${found.keyPath} is there but is not a usable private key (${key.kind === 'encrypted' ? 'it is passphrase-protected' : key.reason}); nothing was written. Move it away, or give --force to replace it with a new key.`);
  }
  const spec = keySpecOf(key.key);
  if (!spec || !sameKeySpec(spec, wanted.key)) {
    throw new UsageError(`${found.keyPath} is ${spec ? `an ${describeKeySpec(spec)}` : `a ${key.key.asymmetricKeyType}`} key, not the ${describeKeySpec(wanted.key)} key asked for; nothing was written. Give --key-type/--rsa-bits that match it to keep it, or --force for a new key.`);
  }
  const keep = { key: 'keep' as const, keyPem: found.keyText };
  if (found.csrText === undefined) return { ...keep, csr: 'new', reason: 'the key has no request beside it' };
  let request;
  try {
    request = parseSigningRequest(requestDerFromPem(found.csrText));
  } catch (error) {
    return { ...keep, csr: 'new', reason: `the request there cannot be read (${(error as Error).message})` };
  }
  const publicKey = createPublicKey(key.key).export({ type: 'spki', format: 'der' });
  if (!publicKey.equals(request.spkiDer)) return { ...keep, csr: 'new', reason: 'the request there is for another key' };
  if (!verifiesItself(request)) return { ...keep, csr: 'new', reason: 'the request there does not verify with its key (altered or damaged)' };
  if (request.commonName !== wanted.commonName || !sameAltNames(request.altNames, wanted.names)) return { ...keep, csr: 'new', reason: 'the names changed' };
  return { ...keep, csr: 'keep' };
}

/** The KeySpec of a key pgssl could have made; undefined for any other. */
export function keySpecOf(key: KeyObject): KeySpec | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength === 2048 || details?.modulusLength === 3072 || details?.modulusLength === 4096)) return { type: 'rsa', bits: details.modulusLength };
  if (key.asymmetricKeyType === 'ec' && (details?.namedCurve === 'prime256v1' || details?.namedCurve === 'secp384r1')) return { type: 'ecdsa', curve: details.namedCurve };
  return undefined;
}
