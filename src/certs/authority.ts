/**
 * pgssl's private CA, kept in the state folder (never the data directory) or
 * the folder `pgssl ca init --dir` names: ca.crt (0644) and ca.key (0600) in a
 * 0700 folder. The key is written first, then the certificate, so a kill in
 * between leaves a key without a certificate: such a half-written CA is
 * recognised and replaced (nothing can have been signed by a CA whose
 * certificate was never written). A complete CA that cannot be used is an
 * error that says how to fix it, never silently replaced.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OperationalError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { buildCaCertificate, buildSelfSignedServerCertificate, buildServerCertificate, type Issuer } from './build.js';
import { generateKeyPair, sameKeySpec, type KeyPairPem, type KeySpec } from './keys.js';
import { signatureAlgorithmFor } from './signing.js';
import { readPrivateKey, type PrivateKeyReading } from './x509.js';

export const caDays = 3650;

export interface CaFiles {
  certPath: string;
  keyPath: string;
}

export function caFilesIn(dir: string): CaFiles {
  return { certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'ca.key') };
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
  return checkedCa(files, certificatePem, privateKeyPem);
}

/** readCa's checks, on texts already read (and parsed, when the caller did: caState). */
function checkedCa(files: CaFiles, certificatePem: string, privateKeyPem: string, parsed?: { cert?: X509Certificate; key: PrivateKeyReading }): Issuer {
  let cert: X509Certificate;
  try {
    cert = parsed?.cert ?? new X509Certificate(certificatePem);
  } catch (error) {
    throw new UsageError(`${files.certPath} is not a PEM certificate: ${(error as Error).message}`);
  }
  const key = parsed?.key ?? readPrivateKey(privateKeyPem);
  if (key.kind !== 'key') throw new UsageError(`${files.keyPath} is not a usable private key${key.kind === 'encrypted' ? ' (it is passphrase-protected; pgssl needs it unencrypted, mode 0600)' : `: ${key.reason}`}`);
  signatureAlgorithmFor(key.key, `the CA key ${files.keyPath}`);
  if (!cert.ca) throw new UsageError(`${files.certPath} is not a CA certificate (basicConstraints CA:FALSE)`);
  if (!cert.checkPrivateKey(key.key)) throw new UsageError(`${files.keyPath} is not the private key of ${files.certPath}`);
  if (new Date(cert.validTo) < new Date()) throw new UsageError(`the CA certificate ${files.certPath} expired on ${new Date(cert.validTo).toISOString()}`);
  return { certificatePem, privateKeyPem, parsed: { certificate: cert, privateKey: key.key } };
}

/** What a CA folder holds. */
export type CaState =
  | { state: 'absent' }
  /** A run was interrupted while creating it: safe to replace. */
  | { state: 'half-written'; reason: string }
  | { state: 'complete'; ca: Issuer }
  /** There, finished, and unusable: the message names the cause and the fix. */
  | { state: 'unusable'; message: string };

/** Reads the CA folder and says what it holds. Reads only; never throws for what it finds. */
export function caState(files: CaFiles): CaState {
  const certText = readIfThere(files.certPath);
  const keyText = readIfThere(files.keyPath);
  if (typeof certText === 'object' || typeof keyText === 'object') {
    const failure = typeof certText === 'object' ? certText : (keyText as { error: string });
    return { state: 'unusable', message: `cannot read the CA: ${failure.error}. Run pgssl as the user that created it (the folder is 0700, ca.key 0600).` };
  }
  if (certText === undefined && keyText === undefined) return { state: 'absent' };
  if (certText === undefined) return { state: 'half-written', reason: `${files.keyPath} has no certificate beside it (a run was interrupted between writing ca.key and ca.crt)` };
  if (keyText === undefined) {
    return { state: 'unusable', message: `${files.certPath} is there but its key ${files.keyPath} is not, so this CA cannot sign any more. Put the key back from a backup; or move ca.crt out of the folder and run again to create a new CA (clients that trust the old ca.crt will need the new one).` };
  }
  const key = readPrivateKey(keyText);
  let cert: X509Certificate | undefined;
  try {
    cert = new X509Certificate(certText);
  } catch {
    cert = undefined;
  }
  if (cert && key.kind === 'key' && !cert.checkPrivateKey(key.key)) {
    return { state: 'half-written', reason: `${files.certPath} is not the certificate of ${files.keyPath} (a run was interrupted after writing a new ca.key, before its ca.crt)` };
  }
  try {
    return { state: 'complete', ca: checkedCa(files, certText, keyText, { cert, key }) };
  } catch (error) {
    return { state: 'unusable', message: `${(error as Error).message}. Move ca.crt and ca.key out of the folder and run again to create a new CA (clients that trust the old ca.crt will need the new one), or give --ca-cert and --ca-key.` };
  }
}

/**
 * pgssl's own CA in `dir`, complete and usable (client-cert, ca sign); a
 * UsageError saying what to run otherwise. `isDefault`: `dir` is the state
 * folder, so the commands shown need no --dir; `orElse` adds another way out
 * (", or give --ca-cert and --ca-key").
 */
export function completeCaIn(dir: string, options: { isDefault: boolean; orElse?: string }): { ca: Issuer; files: CaFiles } {
  const files = caFilesIn(dir);
  const found = caState(files);
  const init = `pgssl ca init${options.isDefault ? '' : ` --dir ${dir}`}`;
  if (found.state === 'complete') return { ca: found.ca, files };
  if (found.state === 'absent') throw new UsageError(`no pgssl CA in ${dir} yet; nothing was written. Create one with ${init} (pgssl enable also creates it)${options.orElse ?? ''}.`);
  if (found.state === 'half-written') throw new UsageError(`the CA in ${dir} is half-written: ${found.reason}; nothing was written. ${init} replaces it (nothing can have been signed by it).`);
  throw new UsageError(found.message);
}

function readIfThere(path: string): string | undefined | { error: string } {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : { error: (error as Error).message };
  }
}

export interface CreatedCa {
  ca: Issuer;
  files: CaFiles;
  /** Set when a half-written CA was replaced: why it was. */
  replaced?: string;
}

/**
 * Writes a new CA into `dir` (which the caller has made 0700): ca.key 0600
 * first, then ca.crt. Throws OperationalError when the files cannot be written.
 */
export function writeNewCa(dir: string, keys: KeyPairPem, replaced?: string, days = caDays): CreatedCa {
  const files = caFilesIn(dir);
  const ca: Issuer = { certificatePem: buildCaCertificate({ commonName: `pgssl CA (${hostname()})`, days, keys }), privateKeyPem: keys.privateKeyPem };
  try {
    writeFileAtomic(files.keyPath, ca.privateKeyPem, { mode: 0o600 });
    writeFileAtomic(files.certPath, ca.certificatePem, { mode: 0o644 });
  } catch (error) {
    throw new OperationalError(`could not save the new CA in ${dir}: ${(error as Error).message}`, { cause: error });
  }
  return { ca, files, replaced };
}

/**
 * A new CA as data, written nowhere (rotate --ca writes it through the run's
 * journal, so that an undo removes it). `label` tells it from the CA it
 * replaces: both are pgssl's, and a DBA looking at a bundle must see which is which.
 */
export function buildNewCa(keys: KeyPairPem, label: string, days = caDays): Issuer {
  return { certificatePem: buildCaCertificate({ commonName: `pgssl CA (${hostname()}) ${label}`, days, keys }), privateKeyPem: keys.privateKeyPem };
}

export interface ServerIssue {
  commonName: string;
  subjectAltNames: string[];
  days: number;
  /** The key type of the server certificate, and of the CA when one is created. */
  key: KeySpec;
  /** Keys already being generated (cli.cts starts RSA keys before the modules load); used first when their type matches. */
  prewarmed?: Promise<KeyPairPem>[];
}

function nextKey(request: ServerIssue): Promise<KeyPairPem> {
  const ready = request.prewarmed?.shift();
  return ready ? ready.then((keys) => (sameKeySpec(keys.spec, request.key) ? keys : generateKeyPair(request.key))) : generateKeyPair(request.key);
}

export interface IssuedServer {
  certificatePem: string;
  privateKeyPem: string;
  /** The CA clients should trust (absent for self-signed). */
  ca?: Issuer;
  caCreated?: CreatedCa;
}

/**
 * A server certificate signed by the CA in `dir`, creating the CA (ca.key
 * 0600) when there is none or replacing a half-written one. `prepareDir`
 * makes the folder (0700; the flow passes ensureStateDir) before a CA is written. Throws UsageError for a CA
 * that is there but unusable, OperationalError when it cannot be written.
 */
export async function issueWithStateCa(dir: string, request: ServerIssue, prepareDir: (dir: string) => void = (folder) => mkdirSync(folder, { recursive: true, mode: 0o700 })): Promise<IssuedServer> {
  const found = caState(caFilesIn(dir));
  if (found.state === 'unusable') throw new UsageError(found.message);
  if (found.state === 'complete') {
    const keys = await nextKey(request);
    return { certificatePem: buildServerCertificate({ ...request, keys }, found.ca), privateKeyPem: keys.privateKeyPem, ca: found.ca };
  }
  const [caKeys, keys] = await Promise.all([nextKey(request), nextKey(request)]);
  try {
    prepareDir(dir);
  } catch (error) {
    throw new OperationalError(`could not create the folder ${dir} for pgssl's CA: ${(error as Error).message}`, { cause: error });
  }
  const created = writeNewCa(dir, caKeys, found.state === 'half-written' ? found.reason : undefined);
  return { certificatePem: buildServerCertificate({ ...request, keys }, created.ca), privateKeyPem: keys.privateKeyPem, ca: created.ca, caCreated: created };
}

export async function issueWithCa(ca: Issuer, request: ServerIssue): Promise<IssuedServer> {
  const keys = await nextKey(request);
  return { certificatePem: buildServerCertificate({ ...request, keys }, ca), privateKeyPem: keys.privateKeyPem, ca };
}

export async function issueSelfSigned(request: ServerIssue): Promise<IssuedServer> {
  const keys = await nextKey(request);
  return { certificatePem: buildSelfSignedServerCertificate({ ...request, keys }), privateKeyPem: keys.privateKeyPem };
}
