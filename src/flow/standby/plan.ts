/**
 * The standby plan, decided before anything changes: the primary_conninfo
 * it has, the CA to verify the primary with (--ca-file, or pgssl's CA in the
 * state folder when the primary is on this host and was enabled by pgssl),
 * a verify-full handshake with the primary using exactly that CA and host
 * name (so that the change cannot cut replication for a CA that does not
 * fit), and the new primary_conninfo. Throws UsageError/OperationalError
 * with nothing changed.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError, UsageError, messageOf } from '../../errors.js';
import type { ServerStateDir } from '../../files/stateDir.js';
import { conninfoChangeTakesEffect, formatConninfo, withVerifiedTls } from '../../replication/conninfoEdit.js';
import { judgePrimaryConninfo, type PrimaryConninfoView } from '../../replication/primaryConninfo.js';
import { readableBy } from '../../replication/standby.js';
import { parseConninfo } from '../../server/conninfo.js';
import { alterSystemStatement } from '../../server/settings.js';
import { probeTls } from '../../server/tlsProbe.js';
import type { FileOwner } from '../../files/owner.js';

/** The file the standby's walreceiver reads to verify its primary: in the data directory, so it travels with it. */
export const installedCaName = 'primary-ca.crt';

export interface StandbyPlan {
  before: PrimaryConninfoView;
  /** undefined when primary_conninfo already verifies the primary. */
  change?: {
    conninfo: string;
    after: PrimaryConninfoView;
    /** The ALTER SYSTEM statement as shown (password masked). */
    shownSql: string;
    ca: { source: 'ca-file' | 'state-folder'; from: string; pem: string; installedAs: string };
    handshake: { address: string; verifiedName: string; protocol: string };
  };
}

export interface StandbyPlanInput {
  conninfo: string;
  major: number;
  dataDirectory: string;
  owner: FileOwner | undefined;
  serverHome: string | undefined;
  caFile?: string;
  state: ServerStateDir;
}

export async function planStandby(input: StandbyPlanInput): Promise<StandbyPlan> {
  const readable = (path: string) => readableBy(path, input.owner?.uid, input.owner?.gid);
  const before = judgePrimaryConninfo(input.conninfo, { dataDirectory: input.dataDirectory, serverHome: input.serverHome, readable });
  if (before.security === 'none') {
    throw new UsageError('this server is in recovery but has no primary_conninfo: it does not stream from a primary (archive recovery only), so there is no replication connection to secure. Nothing was changed.');
  }
  if (before.security === 'unparsable') throw new UsageError(`primary_conninfo cannot be read as a connection string (${before.problem}); nothing was changed. Fix it first (SHOW primary_conninfo).`);
  if (before.security === 'socket') return { before };
  if (before.security === 'verified') return { before };
  if (conninfoChangeTakesEffect(input.major) === 'restart') {
    throw new UsageError(
      `PostgreSQL ${input.major} reads primary_conninfo only when the server starts (a reload is enough from 13 on), and pgssl does not restart servers unasked; nothing was changed. Put sslmode=verify-full sslrootcert=FILE into primary_conninfo with ALTER SYSTEM SET primary_conninfo = '…', then restart the standby (pg_ctl restart) when convenient; pgssl status on it then checks the result.`,
    );
  }
  const ca = findCa(input);
  const params = parseConninfo(input.conninfo);
  const host = params.host ?? 'localhost';
  const port = Number(params.port ?? 5432);
  // The same check libpq will make: the chain to this CA, and the host name as primary_conninfo names it.
  const probe = await probeTls({ host: params.hostaddr ?? host, port, servername: host, ca: ca.pem });
  if (!probe.accepted) {
    throw new OperationalError(`the primary ${host}:${port} does not offer TLS (${probe.reason}); nothing was changed. Run pgssl enable on the primary first, then again here.`);
  }
  if (!probe.verified?.ok) {
    throw new UsageError(
      `the primary ${host}:${port} serves a certificate that ${ca.source === 'ca-file' ? `the CA in ${ca.from}` : `pgssl's CA (${ca.from})`} does not verify for the name "${host}" (${probe.verified?.error ?? 'not verified'}); nothing was changed. Give the CA that signed the primary's certificate with --ca-file, or a host in primary_conninfo that the certificate names.`,
    );
  }
  const installedAs = join(input.dataDirectory, installedCaName);
  const conninfo = withVerifiedTls(input.conninfo, installedAs);
  const after = judgePrimaryConninfo(conninfo, { dataDirectory: input.dataDirectory, serverHome: input.serverHome, readable: () => true });
  const masked = parseConninfo(conninfo);
  if (masked.password !== undefined) masked.password = '********';
  return {
    before,
    change: {
      conninfo,
      after,
      shownSql: alterSystemStatement('primary_conninfo', formatConninfo(masked)),
      ca: { ...ca, installedAs },
      handshake: { address: `${params.hostaddr ?? host}:${port}`, verifiedName: host, protocol: probe.protocol },
    },
  };
}

/** --ca-file, else pgssl's CA in the state folder (the primary's, when pgssl enabled it on this host as the same OS user). */
function findCa(input: StandbyPlanInput): { source: 'ca-file' | 'state-folder'; from: string; pem: string } {
  if (input.caFile) return { source: 'ca-file', from: input.caFile, pem: readCa(input.caFile) };
  const stateCa = join(input.state.dir, 'ca.crt');
  if (existsSync(stateCa)) return { source: 'state-folder', from: stateCa, pem: readCa(stateCa) };
  throw new UsageError(
    `no CA to verify the primary with: --ca-file was not given and pgssl's state folder has no CA (${stateCa}); nothing was changed. Copy the CA that signed the primary's certificate here (on the primary: pgssl's ca.crt in its state folder, or the file its ssl_ca_file names) and run pgssl enable --ca-file FILE.`,
  );
}

function readCa(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the CA file ${path}: ${messageOf(error)}; nothing was changed.`);
  }
  try {
    const cert = new X509Certificate(pem);
    if (!cert.ca) throw new UsageError(`${path} is not a CA certificate (basicConstraints CA:FALSE): give the CA that signed the primary's certificate; nothing was changed.`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${path} is not a PEM certificate (${messageOf(error)}); nothing was changed.`);
  }
  return pem;
}
