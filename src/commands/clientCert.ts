/**
 * `pgssl client-cert NAME`: a client certificate (CN = the role name, byte
 * for byte; clientAuth) from pgssl's CA (`--dir`, default the state folder)
 * or a given one, for `cert` authentication or clientcert=verify-full. Writes
 * NAME.crt, NAME.key (PEM) and NAME.pk8 (DER PKCS#8, for pgJDBC), keys 0600
 * from the first byte.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { completeCaIn, readCa, type CaFiles } from '../certs/authority.js';
import { buildClientCertificate, type Issuer } from '../certs/build.js';
import { hbaUserField, jdbcParameters, jdbcUrl, libpqParameters, psqlLine, type ClientFiles } from '../certs/clientParameters.js';
import { describeKeySpec, generateKeyPair, keySpecFrom } from '../certs/keys.js';
import { summarizeCertificate } from '../certs/x509.js';
import { ExitCode, OperationalError, UsageError } from '../errors.js';
import { writeFilesAtomic } from '../files/atomicWrite.js';
import { stateDirPath } from '../files/stateDir.js';
import { withSpinner } from '../ui/spinner.js';
import { printJson } from './jsonReport.js';

export interface ClientCertOptions {
  outDir: string;
  days: number;
  keyType?: string;
  rsaBits?: string | number;
  rsaBitsGiven?: boolean;
  /** The CA folder (pgssl ca init --dir); default the state folder. */
  dir?: string;
  caCert?: string;
  caKey?: string;
  force?: boolean;
  json?: boolean;
}

export async function clientCertCommand(name: string, options: ClientCertOptions): Promise<number> {
  if (!name || /[/\0]/.test(name) || name === '.' || name === '..') throw new UsageError(`"${name}" cannot be used as a file name; give the role name without slashes`);
  if ((options.caCert === undefined) !== (options.caKey === undefined)) throw new UsageError('--ca-cert and --ca-key go together');
  if (options.caCert && options.dir) throw new UsageError('--dir names the folder of pgssl\'s CA; --ca-cert/--ca-key name another CA: give one or the other');
  const key = keySpecFrom(options.keyType, options.rsaBits, options.rsaBitsGiven);
  const { ca, files: caFiles } = options.caCert ? outsideCa({ certPath: resolve(options.caCert), keyPath: resolve(options.caKey!) }) : completeCaIn(options.dir ? resolve(options.dir) : stateDirPath(), { isDefault: !options.dir || resolve(options.dir) === stateDirPath(), orElse: ', or give --ca-cert and --ca-key' });
  const files: ClientFiles = { role: name, certPath: resolve(options.outDir, `${name}.crt`), keyPath: resolve(options.outDir, `${name}.key`), pk8Path: resolve(options.outDir, `${name}.pk8`), caPath: caFiles.certPath };
  if (!isFolder(options.outDir)) throw new UsageError(`--out-dir ${resolve(options.outDir)} is not a folder; nothing was written. Create it first, or give another --out-dir.`);
  const existing = [files.certPath, files.keyPath, files.pk8Path].filter((p) => existsSync(p));
  if (existing.length > 0 && !options.force) throw new UsageError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written (use --force to replace)`);

  const generating = generateKeyPair(key);
  const keys = key.type === 'rsa' ? await withSpinner(`generating an ${describeKeySpec(key)} key for ${name}`, generating) : await generating;
  // Built (and so checked: name, validity) before anything is written.
  const certificatePem = buildClientCertificate({ commonName: name, days: options.days, keys }, ca);
  const pk8 = (keys.privateKey ?? createPrivateKey(keys.privateKeyPem)).export({ type: 'pkcs8', format: 'der' });
  try {
    writeFilesAtomic([
      { path: files.keyPath, data: keys.privateKeyPem, options: { mode: 0o600 } },
      { path: files.pk8Path, data: pk8, options: { mode: 0o600 } },
      { path: files.certPath, data: certificatePem, options: { mode: 0o644 } },
    ]);
  } catch (error) {
    throw new OperationalError(`${(error as Error).message}. Run as a user who may write to ${resolve(options.outDir)}, or give another --out-dir.`, { cause: error });
  }

  const summary = summarizeCertificate(new X509Certificate(certificatePem));
  if (options.json) {
    const document = { certificate: files.certPath, key: files.keyPath, pk8: files.pk8Path, ca: files.caPath, commonName: name, keyType: describeKeySpec(key), notAfter: summary.notAfter, fingerprintSha256: summary.fingerprintSha256, libpq: libpqParameters(files), jdbc: jdbcParameters(files) };
    printJson('client-cert', document, { exitCode: ExitCode.ok, changed: true });
  } else {
    process.stdout.write(
      [
        `Wrote ${files.certPath}, ${files.keyPath} and ${files.pk8Path} (keys mode 0600; ${describeKeySpec(key)}), valid until ${summary.notAfter}.`,
        'Connect with libpq (psql, node-pg, psycopg):',
        `  ${psqlLine(files)}`,
        'With pgJDBC (it reads the DER key, NAME.pk8):',
        `  ${jdbcUrl(files)}`,
        'On the server, a hostssl rule with cert authentication lets it in, e.g.:',
        `  hostssl all ${hbaUserField(name)} 0.0.0.0/0 cert`,
        '',
      ].join('\n'),
    );
  }
  return ExitCode.ok;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function outsideCa(files: CaFiles): { ca: Issuer; files: CaFiles } {
  return { ca: readCa(files), files };
}
