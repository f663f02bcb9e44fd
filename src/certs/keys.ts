/**
 * RSA keys from Node's native, asynchronous generator (OpenSSL underneath):
 * the event loop stays free for a spinner, and two keys use two cores. Never
 * forge's pure-JS path, which is about 9x slower.
 */
import { generateKeyPair } from 'node:crypto';

export const rsaSizes = [2048, 3072, 4096] as const;
export type RsaBits = (typeof rsaSizes)[number];

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
  bits: RsaBits;
}

export function generateRsaKeyPair(bits: RsaBits): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (error, publicKeyPem, privateKeyPem) => (error ? reject(error) : resolve({ privateKeyPem, publicKeyPem, bits })),
    );
  });
}
