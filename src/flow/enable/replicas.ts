/**
 * Enable on a primary, for the standbys: each walsender with its TLS state
 * (pg_stat_replication ⋈ pg_stat_ssl) before the change and after it, the
 * replication rules the rewrite converts, and which standby readiness says
 * the planned pg_hba.conf would refuse (named by its application_name).
 * Reads only; the report and the view get the lines.
 */
import type { RewritePlan } from '../../hba/rewrite.js';
import type { JudgedClient } from '../../readiness/verdicts.js';
import { readWalsenders, walsenderText, type Walsender } from '../../replication/walsenders.js';
import type { Client } from '../../server/connect.js';
import type { EnableView } from '../../ui/enableView.js';
import type { EnableReport } from '../report.js';

export interface ReplicaReport {
  before: Walsender[];
  after?: Walsender[];
  /** Rules naming the replication keyword that become hostssl. */
  convertedRules: { file: string; line: number; before: string; after: string }[];
  /** Standbys the planned pg_hba.conf would refuse (from readiness), by application_name. */
  refused: string[];
}

/** Before any change (also in --dry-run and the wizard's preview). */
export async function previewReplicas(client: Client, hba: RewritePlan, refused: JudgedClient[], view: EnableView, report: EnableReport & { replicas?: ReplicaReport }): Promise<void> {
  const before = await readWalsenders(client);
  const convertedRules = hba.changes
    .filter((c) => c.rule.databases.some((t) => !t.quoted && t.value === 'replication'))
    .map((c) => ({ file: c.file, line: c.line, before: c.before, after: c.after }));
  const refusedStandbys = refused.filter((c) => c.replication && !c.database);
  const names = refusedStandbys.map((c) => before.find((w) => w.clientAddr === c.address && (!c.application || w.applicationName === c.application))?.applicationName ?? c.application ?? c.address ?? '?');
  report.replicas = { before, convertedRules, refused: names };
  if (before.length === 0 && convertedRules.length === 0) return;
  view.detail(`standbys streaming now: ${before.length === 0 ? 'none' : before.length}`);
  for (const w of before) view.detail(`    ${walsenderText(w)}`);
  for (const rule of convertedRules) view.detail(`replication rule ${rule.file}:${rule.line} becomes hostssl: ${rule.after.trim()}`);
  for (const name of names) view.warn(`standby "${name}" would be refused once pg_hba.conf requires TLS: set sslmode=verify-full in its primary_conninfo first (pgssl enable on the standby)`);
}

/** After the run: the walsenders as they are now (terminated ones may have come back on TLS). */
export async function finalReplicas(client: Client, view: EnableView, report: EnableReport & { replicas?: ReplicaReport }): Promise<void> {
  if (!report.replicas) return;
  const after = await readWalsenders(client);
  report.replicas.after = after;
  for (const w of after) (w.tls || w.clientAddr === null ? view.ok : view.warn)(`standby ${walsenderText(w)}`);
  if (after.some((w) => !w.tls && w.clientAddr !== null)) {
    report.nextSteps.push('A standby still streams without TLS: its walsender keeps its plain connection until it reconnects (--terminate-non-ssl), and its primary_conninfo should say sslmode=verify-full (pgssl enable on the standby).');
  }
}
