/**
 * `pgssl cert request --out-dir DIR`, on the database host: the server's key
 * (DIR/server.key, 0600, the server's OS user's when run as root; it never
 * leaves the host) and a certificate request for it (DIR/server.csr) with
 * the names `pgssl enable` would put in the certificate, for `pgssl ca sign`
 * on the machine that holds the CA. Connects read-only to learn the names
 * (listen_addresses) and the data directory's owner. A second run with the
 * same names writes nothing (`changed: false`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localHostNames } from '../certs/hostNames.js';
import { describeKeySpec, generateKeyPair, keySpecFrom } from '../certs/keys.js';
import { commonNameFor, defaultServerNames } from '../certs/names.js';
import { buildSigningRequest } from '../certs/request.js';
import { decideRequestFiles } from '../certs/requestFiles.js';
import { namesByKind } from '../certs/requestParse.js';
import { ExitCode, OperationalError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { dataDirectoryOwner, mkdirOwned, type FileOwner } from '../files/owner.js';
import { withClient } from '../server/connect.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { discoverServerFacts } from '../server/facts.js';
import { checkLocality } from '../server/locality.js';
import { withSpinner } from '../ui/spinner.js';
import { printJson, printJsonFailureOf } from './jsonReport.js';

export interface CertRequestOptions extends ConnectionFlags {
  outDir: string;
  san?: string[];
  keyType?: string;
  rsaBits?: string | number;
  rsaBitsGiven?: boolean;
  force?: boolean;
  json?: boolean;
}

interface ServerView {
  listenAddresses?: string;
  dataDirectory: string;
}

export async function certRequestCommand(options: CertRequestOptions): Promise<number> {
  try {
    return await certRequest(options);
  } catch (error) {
    // --json: one document for every outcome, as enable's (the Ansible role reads the error from it).
    if (options.json) printJsonFailureOf('cert request', error, { key: join(resolve(options.outDir), 'server.key'), csr: join(resolve(options.outDir), 'server.csr') });
    throw error;
  }
}

async function certRequest(options: CertRequestOptions): Promise<number> {
  const key = keySpecFrom(options.keyType, options.rsaBits, options.rsaBitsGiven);
  const dir = resolve(options.outDir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--out-dir ${dir} is not a folder; nothing was written. Give a folder (pgssl creates it, 0700, when it is missing).`);
  const hostNames = localHostNames();
  const server = await withClient(resolveConnectionTarget(options), learnServer);
  const host = await hostNames;
  const names = defaultServerNames({ ...host, listenAddresses: server.listenAddresses, extra: options.san ?? [] });
  const commonName = commonNameFor(host);
  const owner = dataDirectoryOwner(server.dataDirectory);

  const keyPath = join(dir, 'server.key');
  const csrPath = join(dir, 'server.csr');
  const decision = decideRequestFiles({ keyPath, keyText: readIfThere(keyPath), csrText: readIfThere(csrPath) }, { key, commonName, names, force: Boolean(options.force) });
  let keyPem: string;
  if (decision.key === 'new') {
    const generating = generateKeyPair(key);
    keyPem = (key.type === 'rsa' ? await withSpinner(`generating an ${describeKeySpec(key)} key`, generating) : await generating).privateKeyPem;
  } else keyPem = decision.keyPem;
  // Built (and so checked: every name) before anything is written.
  const csrPem = decision.csr === 'new' ? buildSigningRequest({ commonName, names, privateKeyPem: keyPem }) : undefined;
  if (csrPem) writeRequestFiles(dir, owner, decision.key === 'new' ? { keyPath, keyPem } : undefined, { csrPath, csrPem });

  const report = { key: keyPath, csr: csrPath, names: namesByKind(names), keyType: describeKeySpec(key), changed: csrPem !== undefined };
  if (options.json) printJson('cert request', report, { exitCode: 0, changed: report.changed });
  else {
    const listed = names.map((n) => n.replace(/^(DNS|IP):/, '')).join(', ');
    process.stdout.write(
      [
        decision.csr === 'keep'
          ? `${keyPath} and ${csrPath} are already there for these names (${listed}); nothing was written.`
          : `Wrote ${decision.key === 'new' ? `${keyPath} (a new ${describeKeySpec(key)} key, mode 0600; it stays on this host) and ` : ''}${csrPath} (${decision.key === 'new' ? decision.reason : `for the same key: ${decision.reason}`}), CN ${commonName}, names ${listed}.`,
        `Next: copy ${csrPath} to the machine that holds the CA and run there: pgssl ca sign server.csr --dir CADIR --out server.crt`,
        `Then here, with that server.crt and the CA's ca.crt: pgssl enable --yes --cert-file server.crt --key-file ${keyPath} --ca-file ca.crt`,
        '',
      ].join('\n'),
    );
  }
  return ExitCode.ok;
}

/** listen_addresses and the data directory, and that this is the server's host (the names are this host's, and the key must stay on it). */
async function learnServer(client: Parameters<Parameters<typeof withClient>[1]>[0]): Promise<ServerView> {
  const facts = await discoverServerFacts(client, []);
  const dataDirectory = facts.settings.data_directory?.value;
  if (!dataDirectory) {
    throw new OperationalError(`role "${facts.currentUser}" cannot see data_directory, so pgssl cannot tell whose key to write nor check that it runs on the server's host; nothing was written. Connect as a superuser (sudo -u postgres pgssl cert request …) or a member of pg_read_all_settings.`);
  }
  const locality = checkLocality(dataDirectory, Number(facts.settings.port.value), facts.postmasterStartEpoch);
  if (locality.local !== true) {
    throw new OperationalError(`pgssl cert request must run on the database server's host, as root or the postgres OS user (the names in the request are this host's, and the key is written here to stay here): ${locality.reason}. Nothing was written.`);
  }
  return { listenAddresses: facts.settings.listen_addresses?.value, dataDirectory };
}

/** The key first (0600 from the first byte), then the request: a kill in between leaves a key the next run makes the request for. */
function writeRequestFiles(dir: string, owner: FileOwner | undefined, key: { keyPath: string; keyPem: string } | undefined, csr: { csrPath: string; csrPem: string }): void {
  try {
    mkdirOwned(dir, owner);
    if (key) writeFileAtomic(key.keyPath, key.keyPem, { mode: 0o600, ...owner });
    writeFileAtomic(csr.csrPath, csr.csrPem, { mode: 0o644, ...owner });
  } catch (error) {
    throw new OperationalError(`${(error as Error).message}. Run as root or a user who may write to ${dir}, or give another --out-dir.`, { cause: error });
  }
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}; nothing was written. Run as root or the user who wrote it, or give another --out-dir.`);
  }
}
