/**
 * Step 2: which certificate the server will use. Keeps the installed one when
 * it is valid, served, and covers the wanted names (a second run changes
 * nothing); otherwise issues a new one (pgssl CA by default, self-signed, or
 * signed by a given CA) or validates the DBA's own files. Writes nothing but,
 * for a brand-new pgssl CA, the CA itself in the state folder.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { caFilesIn, issueSelfSigned, type CreatedCa, issueWithCa, issueWithStateCa, readCa, type ServerIssue } from '../certs/authority.js';
import { prepareCertificateBuilder } from '../certs/build.js';
import { describeKeySpec, type KeyPairPem, type KeySpec } from '../certs/keys.js';
import { chownIfRoot, type FileOwner } from '../files/owner.js';
import { fingerprintOfDer } from '../certs/fingerprint.js';
import { prepareExistingFiles } from '../certs/existing.js';
import { covers, inspectCertificateFiles, type CertProblem } from '../certs/inspect.js';
import type { TlsFileContents } from '../certs/install.js';
import { ensureStateDir } from '../files/stateDir.js';
import type { SettingFact } from '../server/facts.js';

export type CertificateSource =
  | { kind: 'new-ca' }
  | { kind: 'self-signed' }
  | { kind: 'files'; certFile: string; keyFile: string; caFile?: string }
  | { kind: 'ca'; caCert: string; caKey: string };

export interface CertificateDecision {
  action: 'keep' | 'issue' | 'install-files';
  contents?: TlsFileContents;
  /** What verify-full checks against: the CA, or the certificate itself when self-signed. */
  trustPem: string;
  certificatePem: string;
  names: string[];
  notAfter: string;
  description: string;
  warnings: CertProblem[];
  caFile?: string;
}

export interface CertificateInput {
  source: CertificateSource;
  names: string[];
  commonName: string;
  days: number;
  /** The new server key's type (and the CA's, when pgssl's CA is created now). */
  key: KeySpec;
  /** Owner of the state folder's files when pgssl runs as root (the data directory's owner). */
  stateOwner?: FileOwner;
  stateDir: string;
  settings: Record<string, SettingFact>;
  dataDirectory: string;
  tlsServedFingerprint?: string;
  allowNameMismatch?: boolean;
  /** Names clients use, for coverage checks (DNS:/IP: prefixes stripped). */
  hosts: string[];
  /** Produce the decision without generating keys (dry run). */
  planOnly: boolean;
  prewarmedKeys?: Promise<KeyPairPem>[];
}

const renewWithinDays = 30;

export async function decideCertificate(input: CertificateInput): Promise<CertificateDecision> {
  const kept = input.source.kind === 'new-ca' ? keepInstalled(input) : undefined;
  if (kept) return kept;
  const request: ServerIssue = { commonName: input.commonName, subjectAltNames: input.names, days: input.days, key: input.key, prewarmed: input.prewarmedKeys };
  if (input.source.kind === 'files') {
    const { contents, warnings } = prepareExistingFiles({ ...input.source, hosts: input.hosts, allowNameMismatch: input.allowNameMismatch, passphraseCommand: Boolean(input.settings.ssl_passphrase_command?.value) });
    const cert = new X509Certificate(contents.certificatePem);
    return {
      action: 'install-files',
      contents,
      trustPem: contents.caCertificatePem ?? contents.certificatePem,
      certificatePem: contents.certificatePem,
      names: (cert.subjectAltName ?? '').split(/,\s*/).filter(Boolean),
      notAfter: new Date(cert.validTo).toISOString(),
      description: `your files ${input.source.certFile} and ${input.source.keyFile}${input.source.caFile ? ` (CA ${input.source.caFile})` : ''}`,
      warnings,
      caFile: input.source.caFile,
    };
  }
  const notAfter = new Date(Date.now() + input.days * 86_400_000).toISOString();
  const what = `${describeKeySpec(input.key)}, ${input.days} days`;
  const description =
    input.source.kind === 'self-signed'
      ? `a new self-signed certificate (${what})`
      : input.source.kind === 'ca'
        ? `a new certificate signed by ${input.source.caCert} (${what})`
        : `a new certificate signed by pgssl's CA in ${input.stateDir} (${what})`;
  if (input.planOnly) {
    return { action: 'issue', trustPem: '', certificatePem: '', names: input.names, notAfter, description, warnings: [], caFile: input.source.kind === 'new-ca' ? caFilesIn(input.stateDir).certPath : undefined };
  }
  // The keys may still be generating on other threads: load the builder meanwhile.
  prepareCertificateBuilder();
  const issued =
    input.source.kind === 'self-signed'
      ? await issueSelfSigned(request)
      : input.source.kind === 'ca'
        ? await issueWithCa(readCa({ certPath: input.source.caCert, keyPath: input.source.caKey }), request)
        : await issueWithStateCa(input.stateDir, request, (dir) => ensureStateDir(process.env, dir, input.stateOwner));
  // As root, pgssl's CA belongs to the data directory's owner, as its state folder does: postgres must be able to sign with it too.
  if (issued.caCreated) for (const path of [issued.caCreated.files.certPath, issued.caCreated.files.keyPath]) chownIfRoot(path, input.stateOwner);
  return {
    action: 'issue',
    contents: { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, caCertificatePem: issued.ca?.certificatePem },
    trustPem: issued.ca?.certificatePem ?? issued.certificatePem,
    certificatePem: issued.certificatePem,
    names: input.names,
    notAfter,
    description: issued.caCreated ? `${description}; ${caCreatedNote(issued.caCreated)}` : description,
    warnings: [],
    caFile: input.source.kind === 'new-ca' ? caFilesIn(input.stateDir).certPath : input.source.kind === 'ca' ? input.source.caCert : undefined,
  };
}

function caCreatedNote(created: CreatedCa): string {
  const where = `${created.files.certPath}, key ${created.files.keyPath}`;
  return created.replaced ? `the CA was half-written — ${created.replaced} — and nothing can have been signed by it, so it was replaced by a new one (${where})` : `the CA was created now (${where})`;
}

/** The installed pair, if it is sound, served right now, and names every wanted host. */
function keepInstalled(input: CertificateInput): CertificateDecision | undefined {
  if (input.settings.ssl?.value !== 'on' || !input.tlsServedFingerprint) return undefined;
  const path = (setting: string) => {
    const value = input.settings[setting]?.value;
    return value ? (isAbsolute(value) ? value : join(input.dataDirectory, value)) : undefined;
  };
  const certPath = path('ssl_cert_file');
  const keyPath = path('ssl_key_file');
  const caPath = path('ssl_ca_file');
  if (!certPath || !keyPath) return undefined;
  let certText: string;
  let keyText: string;
  let caText: string | undefined;
  try {
    certText = readFileSync(certPath, 'utf8');
    keyText = readFileSync(keyPath, 'utf8');
    caText = caPath ? readFileSync(caPath, 'utf8') : undefined;
  } catch {
    return undefined;
  }
  const inspection = inspectCertificateFiles({ files: [{ path: certPath, text: certText }, { path: keyPath, text: keyText }], ca: caText ? { path: caPath!, text: caText } : undefined, hosts: input.hosts, expiryWarnDays: renewWithinDays });
  if (inspection.problems.length > 0) return undefined;
  const cert = new X509Certificate(certText);
  if (fingerprintOfDer(cert.raw) !== input.tlsServedFingerprint) return undefined;
  if (!input.hosts.every((host) => covers(cert, host))) return undefined;
  return {
    action: 'keep',
    trustPem: caText ?? certText,
    certificatePem: certText,
    names: (cert.subjectAltName ?? '').split(/,\s*/).filter(Boolean),
    notAfter: new Date(cert.validTo).toISOString(),
    description: `the installed certificate ${certPath} (valid until ${new Date(cert.validTo).toISOString().slice(0, 10)}, served now, names covered)`,
    warnings: [],
    caFile: caPath,
  };
}
