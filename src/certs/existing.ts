/**
 * Existing certificate files the DBA brings (--cert-file/--key-file/--ca-file):
 * read and validated before anything is written — pair, validity, chain,
 * names, and whether it can serve at all (serverUse.ts: extendedKeyUsage
 * serverAuth or none, not a CA, keyUsage, RSA ≥ 2048 or ECDSA P-256/384/521,
 * never Ed25519/Ed448, which libpq's SCRAM channel binding cannot use).
 * Installing such a certificate would reload the server only to undo the run
 * with a misleading message. Every problem is collected and reported at once
 * (UsageError, exit 2); a name mismatch is a warning that can be overridden.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { inspectCertificateFiles, type CertProblem } from './inspect.js';
import type { TlsFileContents } from './install.js';
import { normalizePem } from './build.js';

export interface ExistingFiles {
  certFile: string;
  keyFile: string;
  caFile?: string;
  /** Names clients will use; each must be covered unless allowNameMismatch. */
  hosts: string[];
  allowNameMismatch?: boolean;
  passphraseCommand?: boolean;
  now?: Date;
}

export function prepareExistingFiles(input: ExistingFiles): { contents: TlsFileContents; warnings: CertProblem[] } {
  const read = (path: string) => {
    try {
      return { path: resolve(path), text: readFileSync(path, 'utf8') };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { path: resolve(path), text: '', unreadable: code === 'EACCES' ? 'permission denied' : code === 'ENOENT' ? 'no such file' : (error as Error).message };
    }
  };
  const cert = read(input.certFile);
  const key = read(input.keyFile);
  const ca = input.caFile ? read(input.caFile) : undefined;
  const unreadable = [cert, key, ...(ca ? [ca] : [])].filter((f) => 'unreadable' in f);
  if (unreadable.length > 0) {
    throw new UsageError(`cannot read ${unreadable.map((f) => `${f.path} (${(f as { unreadable: string }).unreadable})`).join(', ')}; nothing was changed.`);
  }
  const inspection = inspectCertificateFiles({ files: [cert, key], ca, hosts: input.hosts, passphraseCommand: input.passphraseCommand, now: input.now });
  const blocking = inspection.problems.filter((p) => p.severity === 'error' || (p.id === 'NAME_NOT_COVERED' && !input.allowNameMismatch));
  if (inspection.files[0].certificates.length === 0 && !blocking.some((p) => p.file === cert.path)) {
    blocking.push({ id: 'NOT_PEM', severity: 'error', file: cert.path, message: `${cert.path} holds no certificate`, fix: 'Give the server certificate (PEM) with --cert-file.' });
  }
  if (!inspection.files[1].key && !blocking.some((p) => p.file === key.path)) {
    blocking.push({ id: 'NOT_PEM', severity: 'error', file: key.path, message: `${key.path} holds no private key`, fix: 'Give the private key (PEM) with --key-file.' });
  }
  if (blocking.length > 0) {
    const lines = blocking.map((p) => `  ${p.id}: ${p.message}\n    fix: ${p.fix}${p.id === 'NAME_NOT_COVERED' ? ' (or accept it with --allow-name-mismatch)' : ''}`);
    throw new UsageError(`the certificate files cannot be used; nothing was changed:\n${lines.join('\n')}`);
  }
  return {
    contents: { certificatePem: normalizePem(cert.text), privateKeyPem: normalizePem(key.text), caCertificatePem: ca ? normalizePem(ca.text) : undefined },
    warnings: inspection.problems.filter((p) => p.severity === 'warning'),
  };
}
