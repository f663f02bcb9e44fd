/**
 * pgssl's private CA, kept in the state folder (never the data directory):
 * ca.crt (0644) and ca.key (0600). Loaded when present, created otherwise.
 * Issuing a server certificate generates the CA key and the server key at the
 * same time (two cores).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OperationalError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { ensureStateDir } from '../files/stateDir.js';
import { buildCaCertificate, buildSelfSignedServerCertificate, buildServerCertificate, type Issuer } from './build.js';
import { generateRsaKeyPair, type KeyPairPem, type RsaBits } from './keys.js';
import { readPrivateKey } from './x509.js';

export const caDays = 3650;

export interface CaFiles {
  certPath: string;
  keyPath: string;
}

export function caFilesIn(stateDir: string): CaFiles {
  return { certPath: join(stateDir, 'ca.crt'), keyPath: join(stateDir, 'ca.key') };
}

/** Reads a CA pair from disk and checks that it is a usable, matching CA. Throws UsageError naming the problem. */
export function readCa(files: CaFiles): Issuer {
  let certificatePem: string;
  let privateKeyPem: string;
  try {
    certificatePem = readFileSync(files.certPath, 'utf8');
    privateKeyPem = readFileSync(files.keyPath, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the CA: ${(error as Error).message}`, { hint: 'Run as the user that created it, or give --ca-cert and --ca-key.' });
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch (error) {
    throw new UsageError(`${files.certPath} is not a PEM certificate: ${(error as Error).message}`);
  }
  const key = readPrivateKey(privateKeyPem);
  if (key.kind !== 'key') throw new UsageError(`${files.keyPath} is not a usable private key${key.kind === 'encrypted' ? ' (it is passphrase-protected; pgssl needs it unencrypted, mode 0600)' : `: ${key.reason}`}`);
  if (!cert.ca) throw new UsageError(`${files.certPath} is not a CA certificate (basicConstraints CA:FALSE)`);
  if (!cert.checkPrivateKey(key.key)) throw new UsageError(`${files.keyPath} is not the private key of ${files.certPath}`);
  if (new Date(cert.validTo) < new Date()) throw new UsageError(`the CA certificate ${files.certPath} expired on ${new Date(cert.validTo).toISOString()}`);
  return { certificatePem, privateKeyPem };
}

export interface ServerIssue {
  commonName: string;
  subjectAltNames: string[];
  days: number;
  rsaBits: RsaBits;
  /** Keys already being generated (started before the modules loaded); used first. */
  prewarmed?: Promise<KeyPairPem>[];
}

function nextKey(request: ServerIssue): Promise<KeyPairPem> {
  const ready = request.prewarmed?.shift();
  return ready ? ready.then((keys) => (keys.bits === request.rsaBits ? keys : generateRsaKeyPair(request.rsaBits))) : generateRsaKeyPair(request.rsaBits);
}

export interface IssuedServer {
  certificatePem: string;
  privateKeyPem: string;
  /** The CA clients should trust (absent for self-signed). */
  ca?: Issuer;
  caCreated?: CaFiles;
}

/** A server certificate signed by the state folder's CA, creating the CA (0600 key) when there is none. */
export async function issueWithStateCa(stateDir: string, request: ServerIssue): Promise<IssuedServer> {
  const files = caFilesIn(stateDir);
  if (existsSync(files.certPath) || existsSync(files.keyPath)) {
    const ca = readCa(files);
    const keys = await nextKey(request);
    return { certificatePem: buildServerCertificate({ ...request, keys }, ca), privateKeyPem: keys.privateKeyPem, ca };
  }
  const [caKeys, keys] = await Promise.all([nextKey(request), nextKey(request)]);
  const ca = createCa(caKeys);
  try {
    ensureStateDir(process.env, stateDir);
    writeFileAtomic(files.keyPath, ca.privateKeyPem, { mode: 0o600 });
    writeFileAtomic(files.certPath, ca.certificatePem, { mode: 0o644 });
  } catch (error) {
    throw new OperationalError(`could not save the new CA in ${stateDir}`, { cause: error });
  }
  return { certificatePem: buildServerCertificate({ ...request, keys }, ca), privateKeyPem: keys.privateKeyPem, ca, caCreated: files };
}

export async function issueWithCa(ca: Issuer, request: ServerIssue): Promise<IssuedServer> {
  const keys = await nextKey(request);
  return { certificatePem: buildServerCertificate({ ...request, keys }, ca), privateKeyPem: keys.privateKeyPem, ca };
}

export async function issueSelfSigned(request: ServerIssue): Promise<IssuedServer> {
  const keys = await nextKey(request);
  return { certificatePem: buildSelfSignedServerCertificate({ ...request, keys }), privateKeyPem: keys.privateKeyPem };
}

function createCa(keys: KeyPairPem): Issuer {
  return { certificatePem: buildCaCertificate({ commonName: `pgssl CA (${hostname()})`, days: caDays, keys }), privateKeyPem: keys.privateKeyPem };
}
