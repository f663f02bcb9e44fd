/**
 * `pgssl client-cert NAME`: a client certificate (CN = the role name,
 * clientAuth) from pgssl's CA, for `cert` authentication or clientcert=verify-full.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { caFilesIn, readCa } from '../certs/authority.js';
import { buildClientCertificate } from '../certs/build.js';
import { generateRsaKeyPair, type RsaBits } from '../certs/keys.js';
import { summarizeCertificate } from '../certs/x509.js';
import { X509Certificate } from 'node:crypto';
import { ExitCode, UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { stateDirPath } from '../files/stateDir.js';
import { withSpinner } from '../ui/spinner.js';

export interface ClientCertOptions {
  outDir: string;
  days: number;
  rsaBits: RsaBits;
  caCert?: string;
  caKey?: string;
  force?: boolean;
  json?: boolean;
}

export async function clientCertCommand(name: string, options: ClientCertOptions): Promise<number> {
  if (!name || /[/\0]/.test(name) || name === '.' || name === '..') throw new UsageError(`"${name}" cannot be used as a file name; give the role name without slashes`);
  if ((options.caCert === undefined) !== (options.caKey === undefined)) throw new UsageError('--ca-cert and --ca-key go together');
  const caFiles = options.caCert ? { certPath: resolve(options.caCert), keyPath: resolve(options.caKey!) } : caFilesIn(stateDirPath());
  if (!options.caCert && !existsSync(caFiles.certPath)) {
    throw new UsageError(`no pgssl CA in ${stateDirPath()} yet: run pgssl enable first (it creates the CA), or give --ca-cert and --ca-key`);
  }
  const ca = readCa(caFiles);
  const certPath = resolve(options.outDir, `${name}.crt`);
  const keyPath = resolve(options.outDir, `${name}.key`);
  const existing = [certPath, keyPath].filter((p) => existsSync(p));
  if (existing.length > 0 && !options.force) throw new UsageError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written (use --force to replace)`);

  const keys = await withSpinner(`generating an RSA ${options.rsaBits} key for ${name}`, generateRsaKeyPair(options.rsaBits));
  const certificatePem = buildClientCertificate({ commonName: name, days: options.days, keys }, ca);
  writeFileAtomic(keyPath, keys.privateKeyPem, { mode: 0o600 });
  writeFileAtomic(certPath, certificatePem, { mode: 0o644 });

  const summary = summarizeCertificate(new X509Certificate(certificatePem));
  const libpq = { sslmode: 'verify-full', sslrootcert: caFiles.certPath, sslcert: certPath, sslkey: keyPath, user: name };
  if (options.json) {
    process.stdout.write(JSON.stringify({ certificate: certPath, key: keyPath, ca: caFiles.certPath, commonName: name, notAfter: summary.notAfter, fingerprintSha256: summary.fingerprintSha256, libpq }, null, 2) + '\n');
  } else {
    process.stdout.write(
      [
        `Wrote ${certPath} and ${keyPath} (mode 0600), valid until ${summary.notAfter}.`,
        'Connect with:',
        `  psql "host=DBHOST ${Object.entries(libpq).map(([k, v]) => `${k}=${v}`).join(' ')}"`,
        'On the server, a hostssl rule with cert authentication lets it in, e.g.:',
        `  hostssl all ${name} 0.0.0.0/0 cert`,
        '',
      ].join('\n'),
    );
  }
  return ExitCode.ok;
}
