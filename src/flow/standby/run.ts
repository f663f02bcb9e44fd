/**
 * `pgssl enable` on a standby (pg_is_in_recovery()): the same engine as on a
 * primary — learn, plan, the runner with the journaled writer and the one
 * undo path — with the standby's own steps: the primary's CA installed, then
 * primary_conninfo with sslmode=verify-full sslrootcert=…, reloaded, and the
 * walreceiver proven streaming again. A failed proof undoes it (exit 3).
 */
import { dataDirectoryOwner, homeOfUid } from '../../files/owner.js';
import { ensureStateDir, serverStateDir, type ServerStateDir } from '../../files/stateDir.js';
import { readPrimaryConninfo } from '../../replication/standby.js';
import { takeRunLock } from '../../server/advisoryLock.js';
import { parseConninfo } from '../../server/conninfo.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import type { ServerFacts } from '../../server/facts.js';
import type { EnableView } from '../../ui/enableView.js';
import { Cancelled, type Prompter } from '../../ui/prompter.js';
import { RunChanges } from '../changes.js';
import { checkStateDirUsable } from '../enable/preconditions.js';
import { failedRunError } from '../outcome.js';
import { checkServerBasics, readIdentity } from '../preflight.js';
import { shouldUndo } from '../questions.js';
import { runPlan } from '../runner.js';
import type { RunSession } from '../session.js';
import { Stopped } from '../signals.js';
import { settleUnfinishedRuns } from '../unfinished.js';
import { planStandby } from './plan.js';
import { emptyStandbyReport, standbyStepTitles, type StandbyReport } from './report.js';
import { conninfoStep, installCaStep, primaryViewStep } from './steps.js';

export interface StandbyOptions {
  target: ConnectionTarget;
  /** The CA that signed the primary's certificate; default: pgssl's CA in the state folder. */
  caFile?: string;
  /** An admin connection to the primary, to see the walsender there too. */
  primary?: ConnectionTarget;
  dryRun: boolean;
  yes: boolean;
  stateDir?: string;
  /** How long the walreceiver (and the primary's walsender) may take to come back. */
  waitMs: number;
  prompter: Prompter;
  view: EnableView;
}

/**
 * The standby plan on an open run session (flow/enable/primaryOrStandby.ts
 * opens it and reads `facts`, which chose this plan): the preflight starts
 * from those facts. Changes primary_conninfo and installs the CA as the
 * steps say, undone on failure; throws with the report attached.
 */
export async function runStandbyEnable(options: StandbyOptions, session: RunSession, facts: ServerFacts): Promise<StandbyReport> {
  const report = emptyStandbyReport(options.dryRun);
  const { view, prompter } = options;
  const step = (id: StandbyReport['steps'][number]['id']) => report.steps.find((s) => s.id === id)!;
  const total = standbyStepTitles.length;
  let changes: RunChanges | undefined;
  const { client, stop } = session;
  try {
    view.step(1, total, standbyStepTitles[0][1]);
    const { dataDirectory, port } = await checkServerBasics(client, { facts });
    if (!options.dryRun) await takeRunLock(client);
    const { systemIdentifier } = await readIdentity(client);
    report.server = { version: facts.versionText.split(' ').slice(0, 2).join(' '), dataDirectory, port, systemIdentifier };
    view.detail(`${report.server.version} standby (in recovery), data directory ${dataDirectory}`);
    const state: ServerStateDir = options.stateDir ? { dir: options.stateDir, owner: dataDirectoryOwner(dataDirectory) } : serverStateDir(dataDirectory);
    if (!options.dryRun) {
      checkStateDirUsable(state);
      ensureStateDir(process.env, state.dir, state.owner);
    }
    const server = { systemIdentifier, dataDirectory, port };
    report.recovered = await settleUnfinishedRuns({ state, server, client, target: options.target, dataDirectory, prompter, yes: options.yes, readOnly: options.dryRun ? '--dry-run' : undefined, view, command: 'enable' });
    const conninfo = await readPrimaryConninfo(client);
    const owner = dataDirectoryOwner(dataDirectory);
    const plan = await planStandby({ conninfo, major: facts.major, dataDirectory, owner, serverHome: owner ? homeOfUid(owner.uid) : undefined, caFile: options.caFile, state });
    report.primaryConninfo.before = plan.before;
    step('preflight').status = 'done';
    view.detail(`primary_conninfo: host ${plan.before.host ?? '(default)'}, sslmode ${plan.before.sslmode ?? '(not set: prefer)'}${plan.before.sslrootcert ? `, sslrootcert ${plan.before.sslrootcert}` : ''}`);
    const change = plan.change;
    if (!change) {
      view.ok(plan.before.security === 'socket' ? 'the standby replicates over a Unix-domain socket: it never leaves this host, TLS is neither used nor needed' : 'primary_conninfo already verifies the primary (sslmode=verify-full with a readable sslrootcert)');
      for (const s of report.steps) if (s.status === 'planned') s.status = 'already-done';
      return report;
    }
    report.primaryConninfo.after = change.after;
    report.primaryConninfo.sql = change.shownSql;
    report.ca = { source: change.ca.source, from: change.ca.from, installedAs: change.ca.installedAs, action: 'planned' };
    view.ok(`verify-full handshake with the primary ${change.handshake.address} as "${change.handshake.verifiedName}" (${change.handshake.protocol}) using ${change.ca.source === 'ca-file' ? `--ca-file ${change.ca.from}` : `pgssl's CA from the state folder, ${change.ca.from}`}`);
    view.detail(`plan: copy that CA to ${change.ca.installedAs}; ${change.shownSql}; reload; wait for the walreceiver`);
    stop.checkpoint();
    if (options.dryRun) {
      view.detail('dry run: nothing was changed');
      report.nextSteps.push('Run the same command without --dry-run to apply this plan.');
      return report;
    }
    if (!options.yes) {
      const go = await prompter.confirm({ message: 'Apply these changes now? The walreceiver reconnects once (a few seconds without streaming).', flag: '--yes', default: true });
      if (!go) throw new Cancelled();
    }
    const params = parseConninfo(change.conninfo);
    const applicationName = params.application_name || (await client.query<{ v: string }>("SELECT current_setting('cluster_name') AS v")).rows[0].v || 'walreceiver';
    changes = new RunChanges({ stateDir: state.dir, stateOwner: state.owner, command: 'enable', server, client, autoConfPath: `${dataDirectory}/postgresql.auto.conf` });
    const run = await runPlan([installCaStep(change, owner, report), conninfoStep(change, options.waitMs, report), primaryViewStep(options.primary, applicationName, options.waitMs, report)], {
      client,
      target: options.target,
      changes,
      view,
      stop,
      dataDirectory,
      numbering: { first: 2, total },
      shouldUndo: (error) => (error instanceof Stopped && error.signal !== 'SIGINT' ? Promise.resolve(true) : shouldUndo(error, options)),
    });
    for (const [id, status] of Object.entries(run.statuses)) step(id as StandbyReport['steps'][number]['id']).status = status!;
    report.journal = run.journal?.path;
    if (run.failure !== undefined) {
      if (run.undone) report.undone = run.undone;
      throw failedRunError(run.failure, report, Boolean(run.journal?.changed));
    }
    report.changed = Boolean(run.journal?.changed);
    step('report').status = 'done';
    report.nextSteps.push(`The standby now verifies its primary with ${change.ca.installedAs}: when the primary's CA changes (pgssl rotate --ca), install the new bundle there first.`);
    return report;
  } catch (error) {
    throw failedRunError(error, report, Boolean(changes?.journal?.changed));
  }
}
