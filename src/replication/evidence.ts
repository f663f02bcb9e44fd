/**
 * Replication as `pgssl status` shows it: on a primary, every walsender and
 * its TLS state; on a standby, how primary_conninfo connects and what the
 * walreceiver does. Read-only.
 */
import type { Client } from '../server/connect.js';
import { collectStandbyEvidence, type StandbyEvidence } from './standby.js';
import { readWalsenders, type Walsender } from './walsenders.js';

export interface ReplicationEvidence {
  walsenders: Walsender[];
  /** Present on a standby (pg_is_in_recovery()). */
  standby?: StandbyEvidence;
}

export async function collectReplicationEvidence(client: Client, inRecovery: boolean, dataDirectory: string | undefined): Promise<ReplicationEvidence> {
  const walsenders = await readWalsenders(client);
  if (!inRecovery || !dataDirectory) return { walsenders };
  return { walsenders, standby: await collectStandbyEvidence(client, dataDirectory) };
}
