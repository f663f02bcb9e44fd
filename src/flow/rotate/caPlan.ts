/**
 * `rotate --ca`'s plans, decided before anything changes.
 *
 * Phase 1 (begin the overlap): a new CA beside the old one in pgssl's state
 * folder (`ca-<stamp>.crt/.key`; ca.key and the old certificate stay), the
 * server's ssl_ca_file pointed at a bundle (what it trusted + old + new CA),
 * and the published client file ca.crt replaced by the bundle old + new. The
 * server keeps serving its certificate from the old CA.
 *
 * Phase 2 (--finish): the ordinary rotate pair from the new CA (new names,
 * ssl_cert_file/ssl_key_file and now ssl_ca_file without the old CA, one
 * reload), then ca.crt/ca.key become the new CA; the old CA is kept as
 * `ca-before-<stamp>.crt/.key` until the DBA removes it.
 *
 * ssl_ca_file: a NEW file under a new name, then ALTER SYSTEM SET ssl_ca_file
 * (through io.changes.setSetting), never a rewrite of the file in force. That
 * file may be shared (a distribution's /etc/ssl, a config management
 * template) or name CAs pgssl does not know; under a new name a reload sees
 * either the old file or the whole new one, and rollback is a setting put
 * back (the undo never removes a file the configuration in force names).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildNewCa, caFilesIn, caState, issueWithCa, readCa } from '../../certs/authority.js';
import type { Issuer } from '../../certs/build.js';
import { settingPath, type PlannedTlsFile } from '../../certs/install.js';
import { describeKeySpec, generateKeyPair, type KeySpec } from '../../certs/keys.js';
import { commonNameFor, defaultServerNames } from '../../certs/names.js';
import { UsageError } from '../../errors.js';
import { alterSystemStatement } from '../../server/settings.js';
import type { SettingChange } from '../tlsSettings.js';
import type { Endpoint } from './caProof.js';
import { recordPath } from './caRecord.js';
import { newCaPaths, newServerCaPath, overlapClientBundle, overlapServerBundle, pemBlocks, shownTime, withoutOldCa, type CaFacts, type CaRotationRecord } from './caRotation.js';
import { commonNameOf, keySpecOfCertificate, namesForNewCertificate, newPairPaths } from './decide.js';
import { filesInForce, issuedBy, pickVerifyName, type InForce, type PlanInput, type RotatePlan } from './plan.js';

/** A file this phase writes: into pgssl's state folder (owned like it) or for the server (owned by the data directory's owner). */
export interface CaFileWrite {
  path: string;
  /** '(new)' in a dry run: no key is made for a plan that is only shown. */
  content: string;
  mode: number;
  place: 'state' | 'server';
  why: string;
}

export interface CaProofPlan {
  endpoint: Endpoint;
  /** The certificate that must be served after the phase. */
  expectedCertificatePem: string;
  /** CA files a verify-full client must be able to use, and ones it must not. */
  mustVerify: { what: string; pem: string }[];
  mustNotVerify: { what: string; pem: string }[];
  /** CAs whose client certificates ssl_ca_file must accept, and refuse. */
  clientCertsAccepted: { what: string; issuer: Issuer }[];
  clientCertsRefused: { what: string; issuer: Issuer }[];
}

export interface CaOverlapPlan {
  phase: 'begin';
  inForce: InForce;
  oldCa: CaFacts;
  newCa: CaFacts & { key: KeySpec };
  /** Written before the server is pointed at the bundle: the new CA's own files, a copy of the old certificate, the server's bundle. */
  install: CaFileWrite[];
  setting: SettingChange;
  /** Written once the server is proven: the client bundle (ca.crt) and the record. */
  publish: CaFileWrite[];
  record: CaRotationRecord;
  /** Absent in a dry run. */
  proof?: CaProofPlan;
}

export interface CaFinishPlan {
  phase: 'finish';
  /** The ordinary rotate plan (new pair from the new CA, plus ssl_cert_file/ssl_key_file/ssl_ca_file in one reload). */
  rotate: RotatePlan;
  record: CaRotationRecord;
  /** ca.crt/ca.key become the new CA, the old key is copied to ca-before-<stamp>.key, the record says finished. */
  publish: CaFileWrite[];
  /** Said before any change (wizard: asked): what stops working. */
  clientCertificateWarning: string;
  proof?: Omit<CaProofPlan, 'expectedCertificatePem'>;
}

/** Phase 1. Throws UsageError (nothing changed) when pgssl's CA is not usable or did not issue the served certificate. */
export async function planCaOverlap(input: PlanInput): Promise<CaOverlapPlan> {
  const { pre, options, stateDir, served, now } = input;
  const caFiles = caFilesIn(stateDir);
  const found = caState(caFiles);
  if (found.state !== 'complete') {
    const why = found.state === 'absent' ? `there is no CA in ${stateDir} (no ca.crt)` : found.state === 'half-written' ? found.reason : found.message;
    throw new UsageError(`pgssl rotate --ca rotates pgssl's own CA, and it is not usable: ${why}. Nothing was changed. Run pgssl rotate --ca as the user whose state folder holds the CA (PGSSL_STATE_DIR names another one); a CA you manage yourself is rotated by you (see pgssl rotate --help).`);
  }
  const oldCaPem = pemBlocks(found.ca.certificatePem)[0];
  if (!issuedBy(served.certificate, oldCaPem)) {
    throw new UsageError(`the certificate the server serves (issued by ${oneLine(served.certificate.issuer)}) was not issued by pgssl's CA ${caFiles.certPath}, so rotating that CA would not change what clients verify; nothing was changed. pgssl rotate (without --ca) moves the server to a certificate from pgssl's CA first.`);
  }
  const oldCert = new X509Certificate(oldCaPem);
  const key = options.key ?? keySpecOfCertificate(oldCert);
  const paths = newCaPaths(stateDir, now, existsSync);
  const newCa = options.dryRun ? undefined : buildNewCa(await generateKeyPair(key), `since ${now.toISOString().slice(0, 10)}`);
  const newCaPem = newCa?.certificatePem ?? '(new)';
  const inForce = filesInForce(pre);
  const currentServerCa = readIfThere(inForce.caPath);
  const serverCaPath = newServerCaPath(options.certDir ?? dirname(inForce.caPath ?? inForce.certPath), now, existsSync);
  const serverBundle = newCa ? overlapServerBundle(currentServerCa, oldCaPem, newCaPem) : '(new)';
  const clientBundle = newCa ? overlapClientBundle(oldCaPem, newCaPem) : '(new)';
  const settingValue = settingPath(serverCaPath, pre.dataDirectory);
  const oldFacts = { ...factsOf(oldCert), certPath: paths.oldCertPath };
  const newFacts = { ...(newCa ? factsOf(new X509Certificate(newCaPem)) : { fingerprint: '', subject: '(new)', notAfter: '' }), certPath: paths.certPath, keyPath: paths.keyPath, key };
  const record: CaRotationRecord = {
    version: 1,
    phase: 'overlap',
    began: now.toISOString(),
    server: { systemIdentifier: pre.systemIdentifier, dataDirectory: pre.dataDirectory, port: pre.port },
    clientCaFile: caFiles.certPath,
    old: oldFacts,
    new: { certPath: newFacts.certPath, keyPath: newFacts.keyPath, fingerprint: newFacts.fingerprint, subject: newFacts.subject, notAfter: newFacts.notAfter },
  };
  const endpoint = { host: input.connectHost, port: pre.port, verifyName: pickVerifyName(served.certificatePem, input.connectHost, []) };
  const oldIssuer = { certificatePem: oldCaPem, privateKeyPem: found.ca.privateKeyPem };
  return {
    phase: 'begin',
    inForce,
    oldCa: oldFacts,
    newCa: newFacts,
    install: [
      { path: paths.keyPath, content: newCa?.privateKeyPem ?? '(new)', mode: 0o600, place: 'state', why: 'the new CA key (rotate --ca)' },
      { path: paths.certPath, content: newCaPem, mode: 0o644, place: 'state', why: 'the new CA certificate (rotate --ca)' },
      { path: paths.oldCertPath, content: oldCaPem, mode: 0o644, place: 'state', why: 'the old CA certificate alone, kept (rotate --ca)' },
      { path: serverCaPath, content: serverBundle, mode: 0o644, place: 'server', why: 'ssl_ca_file: old and new CA (rotate --ca)' },
    ],
    setting: { name: 'ssl_ca_file', before: pre.facts.settings.ssl_ca_file?.value, after: settingValue, sql: alterSystemStatement('ssl_ca_file', settingValue) },
    publish: [
      { path: caFiles.certPath, content: clientBundle, mode: 0o644, place: 'state', why: 'the client CA file: old and new CA (rotate --ca)' },
      { path: recordPath(stateDir), content: newCa ? `${JSON.stringify(record, null, 2)}\n` : '(new)', mode: 0o600, place: 'state', why: 'the CA rotation record (rotate --ca)' },
    ],
    record,
    proof: newCa && {
      endpoint,
      expectedCertificatePem: served.certificatePem,
      mustVerify: [
        { what: `the old CA alone (${paths.oldCertPath}, what clients have today)`, pem: oldCaPem },
        { what: `the bundle (${caFiles.certPath})`, pem: clientBundle },
      ],
      mustNotVerify: [],
      clientCertsAccepted: [
        { what: 'the old CA', issuer: oldIssuer },
        { what: 'the new CA', issuer: newCa },
      ],
      clientCertsRefused: [],
    },
  };
}

/** Phase 2. Throws UsageError (nothing changed) when the state folder no longer holds what phase 1 left. */
export async function planCaFinish(input: PlanInput, record: CaRotationRecord): Promise<CaFinishPlan> {
  const { pre, options, stateDir, served, now } = input;
  if (record.server.systemIdentifier !== pre.systemIdentifier) {
    throw new UsageError(`the CA rotation in ${recordPath(stateDir)} was begun on another server (system identifier ${record.server.systemIdentifier}, ${record.server.dataDirectory} port ${record.server.port}); nothing was changed. Run pgssl rotate --ca --finish against that server.`);
  }
  const caFiles = caFilesIn(stateDir);
  const found = caState(caFiles);
  const firstFingerprint = found.state === 'complete' ? factsOf(new X509Certificate(pemBlocks(found.ca.certificatePem)[0])).fingerprint : undefined;
  if (found.state !== 'complete' || firstFingerprint !== record.old.fingerprint) {
    throw new UsageError(`${caFiles.certPath} and ${caFiles.keyPath} are no longer the old CA that rotate --ca left there on ${shownTime(record.began)} (${found.state === 'complete' ? 'another CA' : found.state}); nothing was changed. Put them back (pgssl rollback undoes the first phase), or remove ${recordPath(stateDir)} to give up this rotation.`);
  }
  const newCa = readCa({ certPath: record.new.certPath, keyPath: record.new.keyPath! });
  const oldCaPem = pemBlocks(found.ca.certificatePem)[0];
  const oldIssuer = { certificatePem: oldCaPem, privateKeyPem: found.ca.privateKeyPem };
  const inForce = filesInForce(pre);
  const foundNow = defaultServerNames({ ...input.host, listenAddresses: pre.listen.addresses ?? undefined, extra: input.extraNames });
  const names = namesForNewCertificate(served.certificate, foundNow);
  const hosts = names.map((n) => n.replace(/^(DNS|IP):/, ''));
  const key: KeySpec = options.key ?? keySpecOfCertificate(served.certificate);
  const pair = options.dryRun ? undefined : await issueWithCa(newCa, { commonName: commonNameOf(served.certificate) ?? commonNameFor(input.host), subjectAltNames: names, days: options.days, key });
  const pairPaths = newPairPaths(inForce, now, existsSync, options.certDir);
  const serverCaPath = newServerCaPath(options.certDir ?? dirname(inForce.caPath ?? inForce.certPath), now, existsSync);
  const serverCa = pair ? withoutOldCa(readIfThere(inForce.caPath) ?? '', record.old.fingerprint, newCa.certificatePem) : '(new)';
  const files: PlannedTlsFile[] = [
    { role: 'cert', setting: 'ssl_cert_file', path: pairPaths.certPath, settingValue: settingPath(pairPaths.certPath, pre.dataDirectory), content: pair?.certificatePem ?? '(new)', mode: 0o644 },
    { role: 'key', setting: 'ssl_key_file', path: pairPaths.keyPath, settingValue: settingPath(pairPaths.keyPath, pre.dataDirectory), content: pair?.privateKeyPem ?? '(new)', mode: 0o600 },
    { role: 'ca', setting: 'ssl_ca_file', path: serverCaPath, settingValue: settingPath(serverCaPath, pre.dataDirectory), content: serverCa, mode: 0o644 },
  ];
  // The three settings are set with nothing in between and take effect in one reload (steps.ts swapStep).
  const settings = files.map((f) => ({ name: f.setting, before: pre.facts.settings[f.setting]?.value, after: f.settingValue, sql: alterSystemStatement(f.setting, f.settingValue) }));
  const clientBundle = readFileSync(caFiles.certPath, 'utf8');
  const oldKeyPath = record.old.certPath.replace(/\.crt$/, '.key');
  const finished: CaRotationRecord = { ...record, phase: 'finished', finished: now.toISOString(), clientCaFile: caFiles.certPath, old: { ...record.old, keyPath: oldKeyPath } };
  const endpointName = pickVerifyName(pair?.certificatePem, input.connectHost, hosts);
  const clientCertificateWarning = `client certificates signed by the old CA (${oneLine(new X509Certificate(oldCaPem).subject)}, SHA-256 ${record.old.fingerprint.slice(0, 16)}…) will be refused after --finish: the server's ssl_ca_file will trust only the new CA. pgssl cannot know which ones were issued (pgssl client-cert keeps no list of them): reissue each with pgssl client-cert NAME after --finish (it then signs with the new CA).`;
  return {
    phase: 'finish',
    rotate: {
      served,
      inForce,
      // A new pair from the new CA: never the pair in force.
      alreadyInForce: false,
      description: `a new certificate signed by the new CA ${record.new.certPath} (${describeKeySpec(key)}, ${options.days} days)`,
      names,
      notAfter: new Date(now.getTime() + options.days * 86_400_000).toISOString(),
      certificatePem: pair?.certificatePem,
      files,
      settings,
      // What clients have had since phase 1: the new certificate must verify against it.
      trustPem: clientBundle,
      trustFile: caFiles.certPath,
      verifyName: endpointName,
      checkHostName: true,
      warnings: [],
    },
    record: finished,
    publish: [
      { path: oldKeyPath, content: found.ca.privateKeyPem, mode: 0o600, place: 'state', why: 'the old CA key, kept (rotate --ca --finish)' },
      { path: caFiles.keyPath, content: newCa.privateKeyPem, mode: 0o600, place: 'state', why: "pgssl's CA key: now the new CA (rotate --ca --finish)" },
      { path: caFiles.certPath, content: newCa.certificatePem, mode: 0o644, place: 'state', why: 'the client CA file: the new CA alone (rotate --ca --finish)' },
      { path: recordPath(stateDir), content: `${JSON.stringify(finished, null, 2)}\n`, mode: 0o600, place: 'state', why: 'the CA rotation record: finished (rotate --ca --finish)' },
    ],
    clientCertificateWarning,
    proof: pair && {
      endpoint: { host: input.connectHost, port: pre.port, verifyName: endpointName },
      mustVerify: [
        { what: `the bundle (${caFiles.certPath} since the first phase)`, pem: clientBundle },
        { what: `the new CA alone (${record.new.certPath})`, pem: newCa.certificatePem },
      ],
      mustNotVerify: [{ what: `the old CA alone (${record.old.certPath})`, pem: oldCaPem }],
      clientCertsAccepted: [{ what: 'the new CA', issuer: newCa }],
      clientCertsRefused: [{ what: 'the old CA', issuer: oldIssuer }],
    },
  };
}

function factsOf(cert: X509Certificate): Omit<CaFacts, 'certPath'> {
  return { fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(), subject: oneLine(cert.subject), notAfter: new Date(cert.validTo).toISOString() };
}

function readIfThere(path: string | undefined): string | undefined {
  return path && existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}
