/** `pgssl cert inspect FILE...`: what certificate and key files are, and whether they are sound. */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspectCertificateFiles, type FileInput, type Inspection } from '../certs/inspect.js';
import { ExitCode, UsageError } from '../errors.js';
import { colourWanted, makeStyle, type Style } from '../ui/style.js';
import { printJson } from './jsonReport.js';

export interface CertInspectOptions {
  host?: string[];
  ca?: string;
  json?: boolean;
  color?: boolean;
  expiryWarnDays: number;
}

function readInput(path: string): FileInput {
  try {
    const text = readFileSync(path, 'utf8');
    const { uid, mode } = statSync(path);
    return { path: resolve(path), text, stat: { uid, mode } };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path}: ${code === 'EACCES' ? 'permission denied (run as the file owner, e.g. sudo -u postgres)' : code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export async function certInspectCommand(files: string[], options: CertInspectOptions): Promise<number> {
  const inspection = inspectCertificateFiles({
    files: files.map(readInput),
    ca: options.ca ? readInput(options.ca) : undefined,
    hosts: options.host,
    expiryWarnDays: options.expiryWarnDays,
  });
  const unreadable = inspection.problems.filter((p) => p.id === 'NOT_PEM');
  const failing = inspection.problems.filter((p) => p.id !== 'CERT_EXPIRES_SOON');
  const exitCode = unreadable.length > 0 ? ExitCode.usage : failing.length > 0 ? ExitCode.checkFailed : ExitCode.ok;
  // The problems are this command's findings (same id, severity, message, fix); `problems` stays for scripts that read it.
  if (options.json) printJson('cert inspect', { ...inspection, sound: failing.length === 0 }, { exitCode, findings: inspection.problems });
  else process.stdout.write(render(inspection, makeStyle(colourWanted(options.color, process.stdout))));
  return exitCode;
}

function render(inspection: Inspection, s: Style): string {
  const lines: string[] = [];
  for (const file of inspection.files) {
    lines.push(s.bold(file.path));
    for (const [i, cert] of file.certificates.entries()) {
      lines.push(`  certificate${file.certificates.length > 1 ? ` #${i + 1}` : ''}: ${cert.subject}`);
      lines.push(`    issuer: ${cert.selfSigned ? 'self-signed' : cert.issuer}${cert.isCA ? ' (a CA)' : ''}`);
      if (cert.subjectAltNames.length) lines.push(`    names: ${cert.subjectAltNames.join(', ')}`);
      lines.push(`    valid: ${cert.notBefore} → ${cert.notAfter} (${cert.daysLeft} days left)`);
      lines.push(`    key: ${cert.keyType.toUpperCase()} ${cert.keyBits ?? ''}, serial ${cert.serialNumber}`);
      lines.push(`    SHA-256: ${cert.fingerprintSha256}`);
    }
    if (file.key) lines.push(`  private key: ${file.key.encrypted ? 'passphrase-protected' : `${file.key.type.toUpperCase()} ${file.key.bits ?? ''}${file.key.curve ? ` (${file.key.curve})` : ''}`}`);
  }
  if (inspection.keyMatchesCertificate !== undefined) lines.push(`key matches certificate: ${inspection.keyMatchesCertificate ? s.ok('yes') : s.bad('NO')}`);
  if (inspection.chain) lines.push(`chain: ${inspection.chain.verified ? s.ok(`verified (${inspection.chain.length} certificate${inspection.chain.length === 1 ? ', self-signed' : 's'})`) : s.bad(`does not verify — ${inspection.chain.error}`)}`);
  for (const host of inspection.hosts ?? []) lines.push(`name ${host.name}: ${host.covered ? s.ok('covered') : s.bad('NOT covered')}`);
  for (const problem of inspection.problems) {
    lines.push(`${problem.severity === 'error' ? s.bad('✖') : s.warn('!')} ${problem.id}: ${problem.message}`);
    lines.push(s.dim(`    fix: ${problem.fix}`));
  }
  if (inspection.problems.length === 0) lines.push(s.ok('sound'));
  return lines.join('\n') + '\n';
}
