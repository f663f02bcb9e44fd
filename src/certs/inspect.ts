/**
 * Inspection and validation of certificate and key files: what they are, and
 * every problem that would make PostgreSQL or a verifying client refuse them,
 * collected in one list. Pure but for the clock.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { keyPermissionProblem } from '../files/keyPermissions.js';
import { describeKey, serverCertificateProblems } from './serverUse.js';
import { isSelfSigned, parseCertificates, pemBlocks, readPrivateKey, summarizeCertificate, type CertificateSummary } from './x509.js';

export type CertProblemId =
  | 'NOT_PEM'
  | 'KEY_MISMATCH'
  | 'NO_KEY_FOR_CERT'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_EXPIRES_SOON'
  | 'CHAIN_INVALID'
  | 'NAME_NOT_COVERED'
  | 'KEY_ENCRYPTED'
  | 'NOT_A_SERVER_CERT'
  | 'KEY_TYPE_UNSUITABLE'
  | 'NO_SUBJECT_ALT_NAME'
  | 'KEY_PERMISSIONS';

export interface CertProblem {
  id: CertProblemId;
  severity: 'error' | 'warning';
  file?: string;
  message: string;
  fix: string;
}

export interface InspectedFile {
  path: string;
  certificates: CertificateSummary[];
  key?: { type: string; bits?: number; curve?: string; encrypted: boolean };
}

export interface FileInput {
  path: string;
  text: string;
  /** Owner and mode on disk, when read from disk: a private key's are checked as PostgreSQL checks them. */
  stat?: { uid: number; mode: number };
}

export interface InspectionInput {
  files: FileInput[];
  /** CA certificates to verify the chain against (PEM text). */
  ca?: { path: string; text: string };
  /** Host names or IPs clients will use (verify-full). */
  hosts?: string[];
  now?: Date;
  expiryWarnDays?: number;
  /** Set when ssl_passphrase_command is configured: an encrypted key is then fine. */
  passphraseCommand?: boolean;
}

export interface Inspection {
  files: InspectedFile[];
  keyMatchesCertificate?: boolean;
  chain?: { verified: boolean; error?: string; length: number };
  hosts?: { name: string; covered: boolean }[];
  problems: CertProblem[];
}

export function inspectCertificateFiles(input: InspectionInput): Inspection {
  const now = input.now ?? new Date();
  const problems: CertProblem[] = [];
  const files: InspectedFile[] = [];
  const certs: { path: string; cert: X509Certificate }[] = [];
  let key: { path: string; key: KeyObject } | undefined;
  for (const file of input.files) {
    const inspected: InspectedFile = { path: file.path, certificates: [] };
    files.push(inspected);
    const blocks = pemBlocks(file.text);
    if (blocks.length === 0) {
      problems.push({ id: 'NOT_PEM', severity: 'error', file: file.path, message: `${file.path} holds no PEM block (-----BEGIN …-----)`, fix: 'Give a PEM file; convert DER with: openssl x509 -inform der -in FILE -out FILE.pem' });
      continue;
    }
    try {
      for (const cert of parseCertificates(file.text)) {
        certs.push({ path: file.path, cert });
        inspected.certificates.push(summarizeCertificate(cert, now));
      }
    } catch (error) {
      problems.push({ id: 'NOT_PEM', severity: 'error', file: file.path, message: `${file.path}: a certificate block cannot be parsed: ${(error as Error).message}`, fix: 'Replace the file with an intact PEM certificate.' });
    }
    if (blocks.some((b) => /PRIVATE KEY$/.test(b.label))) {
      const reading = readPrivateKey(file.text);
      if (reading.kind === 'encrypted') {
        inspected.key = { type: 'unknown', encrypted: true };
        if (!input.passphraseCommand) {
          problems.push({
            id: 'KEY_ENCRYPTED',
            severity: 'error',
            file: file.path,
            message: `${file.path} is passphrase-protected: PostgreSQL can only load it with ssl_passphrase_command (and cannot reload it without ssl_passphrase_command_supports_reload)`,
            fix: `Remove the passphrase (openssl pkey -in ${file.path} -out server.key) and keep the file mode 0600, or configure ssl_passphrase_command.`,
          });
        }
      } else if (reading.kind === 'invalid') {
        problems.push({ id: 'NOT_PEM', severity: 'error', file: file.path, message: `${file.path}: the private key cannot be read: ${reading.reason}`, fix: 'Replace it with an intact PEM private key.' });
      } else {
        inspected.key = { ...describeKey(reading.key), encrypted: false };
        key = { path: file.path, key: reading.key };
      }
      const permission = file.stat && keyFileModeProblem(file.stat);
      if (permission) {
        problems.push({ id: 'KEY_PERMISSIONS', severity: 'error', file: file.path, message: `${file.path}: ${permission}; the server refuses to load it`, fix: `chmod 0600 ${file.path} (owned by the server's OS user), or chown root:postgres and chmod 0640` });
      }
    }
  }

  const leaf = certs[0];
  const result: Inspection = { files, problems };
  if (leaf && key) {
    result.keyMatchesCertificate = leaf.cert.checkPrivateKey(key.key);
    if (!result.keyMatchesCertificate) {
      problems.push({
        id: 'KEY_MISMATCH',
        severity: 'error',
        file: key.path,
        message: `${key.path} is not the private key of the certificate in ${leaf.path} (${oneLine(leaf.cert.subject)})`,
        fix: 'Give the key that was generated with this certificate, or issue a new pair (pgssl enable).',
      });
    }
  }
  if (leaf) problems.push(...serverCertificateProblems(leaf.cert, leaf.path));
  for (const { path, cert } of certs) {
    const summary = summarizeCertificate(cert, now);
    if (new Date(summary.notAfter) < now) {
      problems.push({ id: 'CERT_EXPIRED', severity: 'error', file: path, message: `${path}: ${summary.subject} expired on ${summary.notAfter}`, fix: 'Issue a new certificate (pgssl rotate).' });
    } else if (new Date(summary.notBefore) > now) {
      problems.push({ id: 'CERT_NOT_YET_VALID', severity: 'error', file: path, message: `${path}: ${summary.subject} is not valid before ${summary.notBefore}`, fix: "Check this host's clock and the issuing host's clock." });
    } else if (summary.daysLeft < (input.expiryWarnDays ?? 30)) {
      problems.push({ id: 'CERT_EXPIRES_SOON', severity: 'warning', file: path, message: `${path}: ${summary.subject} expires in ${summary.daysLeft} day(s)`, fix: 'Plan a rotation (pgssl rotate).' });
    }
  }
  if (leaf && input.ca) {
    let caCerts: X509Certificate[] = [];
    try {
      caCerts = parseCertificates(input.ca.text);
    } catch {
      caCerts = [];
    }
    if (caCerts.length === 0) {
      problems.push({ id: 'NOT_PEM', severity: 'error', file: input.ca.path, message: `${input.ca.path} holds no readable CA certificate`, fix: 'Give the PEM certificate of the CA that signed the server certificate.' });
    } else {
      result.chain = verifyChain(leaf.cert, certs.slice(1).map((c) => c.cert), caCerts, now);
      if (!result.chain.verified) {
        problems.push({ id: 'CHAIN_INVALID', severity: 'error', file: leaf.path, message: `${leaf.path} does not verify against ${input.ca.path}: ${result.chain.error}`, fix: 'Give the CA that issued it (and any intermediate certificates after the server certificate in the same file).' });
      }
    }
  }
  if (leaf && !input.ca && certs.length === 1 && isSelfSigned(leaf.cert)) {
    // Its own root: clients pin this very file as sslrootcert.
    result.chain = verifyChain(leaf.cert, [], [leaf.cert], now);
  }
  if (leaf && input.hosts?.length) {
    result.hosts = input.hosts.map((name) => ({ name, covered: covers(leaf.cert, name) }));
    const missing = result.hosts.filter((h) => !h.covered).map((h) => h.name);
    if (missing.length > 0) {
      problems.push({
        id: 'NAME_NOT_COVERED',
        severity: 'warning',
        file: leaf.path,
        message: `${leaf.path} does not name ${missing.join(', ')} (it names ${summarizeCertificate(leaf.cert, now).subjectAltNames.join(', ') || oneLine(leaf.cert.subject)}): clients using sslmode=verify-full with that host will refuse it`,
        fix: 'Issue a certificate that lists every name and address clients use (--san), or tell clients to connect with a listed name.',
      });
    }
  }
  return result;
}

export function covers(cert: X509Certificate, name: string): boolean {
  return isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
}

/** Leaf → intermediates → a certificate in the CA file; signatures, validity and CA flags checked. */
export function verifyChain(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[], now: Date): { verified: boolean; error?: string; length: number } {
  let current = leaf;
  const seen = new Set<string>();
  for (let length = 1; length <= 10; length++) {
    if (seen.has(current.fingerprint256)) return { verified: false, error: 'the chain loops', length };
    seen.add(current.fingerprint256);
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) {
      const ownAnchor = anchor.fingerprint256 === current.fingerprint256;
      // A self-signed server certificate pinned as its own root needs no CA flag (libpq accepts it as sslrootcert).
      if (!anchor.ca && !ownAnchor) return { verified: false, error: 'the issuing certificate in the CA file is not a CA (basicConstraints CA:FALSE)', length };
      if (new Date(anchor.validTo) < now) return { verified: false, error: `the CA certificate expired on ${new Date(anchor.validTo).toISOString()}`, length };
      // A self-signed certificate that is its own anchor is a chain of one.
      return { verified: true, length: length + (ownAnchor ? 0 : 1) };
    }
    const next = intermediates.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return { verified: false, error: `no certificate in the CA file issued "${oneLine(current.issuer)}"`, length };
    if (!next.ca) return { verified: false, error: `intermediate "${oneLine(next.subject)}" is not a CA`, length };
    if (new Date(next.validTo) < now) return { verified: false, error: `intermediate "${oneLine(next.subject)}" has expired`, length };
    current = next;
  }
  return { verified: false, error: 'the chain is longer than 10 certificates', length: 10 };
}

/**
 * PostgreSQL's rule for the key file (be-secure-common.c), judged offline: the
 * owner is taken to be the server's OS user unless it is root.
 */
function keyFileModeProblem(stat: { uid: number; mode: number }): string | undefined {
  return keyPermissionProblem(stat, stat.uid);
}

function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}
