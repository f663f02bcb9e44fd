/**
 * `pgssl ca init`: pgssl's CA on its own (on an admin machine too), so that
 * `client-cert` and later `enable` runs sign with it. ca.crt and ca.key (0600)
 * in a 0700 folder. Never overwrites a CA; a half-written one (a run killed
 * between ca.key and ca.crt) is replaced, and the output says so.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { caFilesIn, caState, writeNewCa } from '../certs/authority.js';
import { describeKeySpec, generateKeyPair, keySpecFrom } from '../certs/keys.js';
import { summarizeCertificate } from '../certs/x509.js';
import { ExitCode, OperationalError, UsageError } from '../errors.js';
import { ensureStateDir, stateDirPath } from '../files/stateDir.js';
import { withSpinner } from '../ui/spinner.js';
import { printJson } from './jsonReport.js';

export interface CaInitOptions {
  /** Default: pgssl's state folder. */
  dir?: string;
  keyType?: string;
  rsaBits?: string | number;
  rsaBitsGiven?: boolean;
  days: number;
  json?: boolean;
}

export async function caInitCommand(options: CaInitOptions): Promise<number> {
  const key = keySpecFrom(options.keyType, options.rsaBits, options.rsaBitsGiven);
  const dir = options.dir ? resolve(options.dir) : stateDirPath();
  const files = caFilesIn(dir);
  const found = caState(files);
  if (found.state === 'complete') {
    const notAfter = new Date(new X509Certificate(found.ca.certificatePem).validTo).toISOString();
    throw new UsageError(`${dir} already holds a CA (${files.certPath}, valid until ${notAfter}); pgssl ca init never overwrites one, and nothing was changed. Use it as it is (pgssl client-cert NAME${options.dir ? ` --dir ${dir}` : ''}), or move ca.crt and ca.key out of the folder first (clients that trust it will then need the new ca.crt).`);
  }
  if (found.state === 'unusable') throw new UsageError(`${found.message} pgssl ca init does not replace it by itself; nothing was changed.`);
  if (options.dir) prepareOwnFolder(dir);
  else ensureStateDir(process.env, dir);

  const generating = generateKeyPair(key);
  const keys = key.type === 'rsa' ? await withSpinner(`generating an ${describeKeySpec(key)} key for the CA`, generating) : await generating;
  const created = writeNewCa(dir, keys, found.state === 'half-written' ? found.reason : undefined, options.days);
  const summary = summarizeCertificate(new X509Certificate(created.ca.certificatePem));
  if (options.json) {
    printJson('ca init', { dir, certificate: files.certPath, key: files.keyPath, keyType: describeKeySpec(key), notAfter: summary.notAfter, fingerprintSha256: summary.fingerprintSha256, replacedHalfWritten: created.replaced ?? null }, { exitCode: ExitCode.ok, changed: true });
  } else {
    process.stdout.write(
      [
        ...(created.replaced ? [`Replaced a half-written CA: ${created.replaced}. Nothing can have been signed by it.`] : []),
        `Created pgssl's CA in ${dir} (${describeKeySpec(key)}, valid until ${summary.notAfter}):`,
        `  ${files.certPath}   give it to clients (sslrootcert) and servers (ssl_ca_file, for client certificates)`,
        `  ${files.keyPath}   mode 0600; it signs certificates and never needs to leave this machine`,
        `Next: pgssl client-cert NAME${options.dir ? ` --dir ${dir}` : ''}`,
        '',
      ].join('\n'),
    );
  }
  return ExitCode.ok;
}

/**
 * A folder the DBA named: created 0700 when missing; an existing one must
 * already be closed to others (pgssl does not chmod a folder it did not make).
 */
function prepareOwnFolder(dir: string): void {
  let mode: number;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mode = statSync(dir).mode;
  } catch (error) {
    throw new OperationalError(`could not create the folder ${dir} for the CA: ${(error as Error).message}`, { cause: error });
  }
  if ((mode & 0o170000) !== 0o040000) throw new UsageError(`${dir} is not a folder; give --dir a folder for the CA`);
  if (mode & 0o077) {
    throw new UsageError(`${dir} can be entered by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}), and the CA key would live there; nothing was changed. Run chmod 700 ${dir}, or give --dir a new folder (pgssl creates it 0700).`);
  }
}
