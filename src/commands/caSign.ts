/**
 * `pgssl ca sign CSR --out FILE`, on the admin machine that holds the CA:
 * reads the request and the CA folder, and nothing else (the server's key
 * stays on its host), refuses a request it should not sign (exit 2, nothing
 * written), and writes the server certificate (0644). A FILE that already
 * answers the request (this CA, this key, these names, not due) is left as
 * it is: `changed: false`.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { completeCaIn } from '../certs/authority.js';
import { fingerprintOfDer } from '../certs/fingerprint.js';
import { namesByKind, parseSigningRequest, requestDerFromPem, type ParsedRequest } from '../certs/requestParse.js';
import { existingCertificateMismatch, issueForRequest, requestProblems } from '../certs/signRequest.js';
import { ExitCode, OperationalError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { stateDirPath } from '../files/stateDir.js';
import { printJson, printJsonFailureOf } from './jsonReport.js';

export interface CaSignOptions {
  /** The CA folder (pgssl ca init --dir); default the state folder. */
  dir?: string;
  days: number;
  out: string;
  renewWithin: number;
  json?: boolean;
}

export async function caSignCommand(csrPath: string, options: CaSignOptions): Promise<number> {
  try {
    return caSign(csrPath, options);
  } catch (error) {
    // --json: one document for every outcome, as enable's (the Ansible role reads the error from it).
    if (options.json) printJsonFailureOf('ca sign', error, { certificate: resolve(options.out) });
    throw error;
  }
}

function caSign(csrPath: string, options: CaSignOptions): number {
  const csrFile = resolve(csrPath);
  const out = resolve(options.out);
  const request = readRequest(csrFile);
  const dir = resolve(options.dir ?? stateDirPath());
  const { ca, files } = completeCaIn(dir, { isDefault: !options.dir || dir === stateDirPath() });

  const existing = readOut(out);
  const mismatch = existing === undefined ? 'there is none' : existingCertificateMismatch(existing, request, ca, options.renewWithin);
  let certificatePem = existing ?? '';
  if (mismatch !== undefined) {
    certificatePem = issueForRequest(request, ca, options.days);
    try {
      writeFileAtomic(out, certificatePem, { mode: 0o644 });
    } catch (error) {
      throw new OperationalError(`${(error as Error).message}. Run as a user who may write there, or give another --out.`, { cause: error });
    }
  }
  const cert = new X509Certificate(certificatePem);
  const report = {
    certificate: out,
    caCert: files.certPath,
    subject: cert.subject.replace(/\n/g, ', '),
    names: namesByKind(request.altNames),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprint: fingerprintOfDer(cert.raw),
    changed: mismatch !== undefined,
  };
  if (options.json) printJson('ca sign', report, { exitCode: 0, changed: report.changed });
  else {
    const what = report.changed ? `Wrote ${out} (${existing === undefined ? 'new' : `replaced: ${mismatch}`})` : `${out} already answers ${csrFile} (this CA, this key, these names, valid beyond ${options.renewWithin} days); nothing was written`;
    process.stdout.write(
      [
        `${what}.`,
        `  subject ${report.subject}; names ${[...report.names.dns, ...report.names.ip].join(', ')}; valid until ${report.notAfter}`,
        `  SHA-256 ${report.fingerprint}`,
        `Next: copy ${out} and ${files.certPath} to the database host, and run there: pgssl enable --yes --cert-file server.crt --key-file DIR/server.key --ca-file ca.crt`,
        '',
      ].join('\n'),
    );
  }
  return ExitCode.ok;
}

/** What --out holds now (undefined: nothing yet); a UsageError when it is there but cannot be read as a file. */
function readOut(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--out ${path} is there but cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was written. Give --out a certificate file, or a name that does not exist yet.`);
  }
}

/** The request, parsed and accepted; a UsageError listing every reason to refuse it otherwise. */
function readRequest(path: string): ParsedRequest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the certificate request ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}; nothing was written.`);
  }
  let request: ParsedRequest;
  try {
    request = parseSigningRequest(requestDerFromPem(text));
  } catch (error) {
    throw new UsageError(`${path} is not a certificate request: ${(error as Error).message}; nothing was written. Give the server.csr that pgssl cert request wrote on the database host.`);
  }
  const problems = requestProblems(request, path);
  if (problems.length === 1) throw new UsageError(`pgssl will not sign ${path}: ${problems[0]} Nothing was written.`);
  if (problems.length > 1) throw new UsageError(`pgssl will not sign ${path}; nothing was written:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return request;
}
