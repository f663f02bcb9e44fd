/**
 * What a standby (pg_is_in_recovery()) tells about its replication
 * connection: primary_conninfo as set (superuser only), and the walreceiver
 * as it runs (pg_stat_wal_receiver: status, the conninfo in use with the
 * password masked, the primary it streams from). Changes nothing.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { Client } from '../server/connect.js';
import { dataDirectoryOwner, homeOfUid } from '../files/owner.js';
import { judgePrimaryConninfo, type PrimaryConninfoView } from './primaryConninfo.js';

export interface WalReceiverView {
  pid: number;
  /** streaming, starting, waiting, stopping… */
  status: string;
  conninfo: string | null;
  senderHost: string | null;
  senderPort: number | null;
}

export interface StandbyEvidence {
  primaryConninfo: PrimaryConninfoView;
  walReceiver: WalReceiverView | null;
}

export async function readWalReceiver(client: Client): Promise<WalReceiverView | null> {
  const { rows } = await client.query('SELECT pid, status, conninfo, sender_host, sender_port FROM pg_stat_wal_receiver');
  if (rows.length === 0 || rows[0].pid === null) return null;
  const row = rows[0];
  return { pid: row.pid, status: row.status, conninfo: row.conninfo, senderHost: row.sender_host, senderPort: row.sender_port };
}

export async function readPrimaryConninfo(client: Client): Promise<string> {
  return (await client.query<{ value: string }>("SELECT current_setting('primary_conninfo') AS value")).rows[0].value;
}

export async function collectStandbyEvidence(client: Client, dataDirectory: string): Promise<StandbyEvidence> {
  const owner = dataDirectoryOwner(dataDirectory);
  const primaryConninfo = judgePrimaryConninfo(await readPrimaryConninfo(client), {
    dataDirectory,
    serverHome: owner ? homeOfUid(owner.uid) : undefined,
    readable: (path) => readableBy(path, owner?.uid, owner?.gid),
  });
  return { primaryConninfo, walReceiver: await readWalReceiver(client) };
}

/** Whether the server's OS user (uid/gid; we ourselves when unknown) can read the file, by its mode bits. */
export function readableBy(path: string, uid: number | undefined, gid: number | undefined): boolean {
  try {
    if (uid === undefined || uid === process.getuid?.()) {
      accessSync(path, constants.R_OK);
      return true;
    }
    const stat = statSync(path);
    if (!stat.isFile()) return false;
    if (uid === 0) return true;
    if (stat.uid === uid) return (stat.mode & 0o400) !== 0;
    if (stat.gid === gid) return (stat.mode & 0o040) !== 0;
    return (stat.mode & 0o004) !== 0;
  } catch {
    return false;
  }
}
