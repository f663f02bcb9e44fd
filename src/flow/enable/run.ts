/**
 * `pgssl enable`, in the safe order (DESIGN.md): learn (preflight) → plan
 * (certificate, files, settings, pg_hba.conf, lockout check; the wizard asks
 * here) → the runner applies install-files → tls-on → enforce → sessions,
 * each proven on the real server, journaled before every change and undone
 * in reverse on failure or signal → the same findings as `pgssl status`.
 */
import { dirname } from 'node:path';
import { ExitCode, UsageError } from '../../errors.js';
import { assessReadiness } from '../../readiness/assess.js';
import { clientText, verdictText } from '../../readiness/report.js';
import type { Client } from '../../server/connect.js';
import type { ServerFacts } from '../../server/facts.js';
import { removeStaleTempFiles } from '../../files/atomicWrite.js';
import { dataDirectoryOwner } from '../../files/owner.js';
import { ensureStateDir, serverStateDir, type ServerStateDir } from '../../files/stateDir.js';
import { localHostNames } from '../../certs/hostNames.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import { collectStatusEvidenceWith } from '../../status/collect.js';
import { buildStatusReport } from '../../status/report.js';
import { showPlan } from '../../ui/planView.js';
import { Cancelled } from '../../ui/prompter.js';
import { RunChanges } from '../changes.js';
import { processAlive } from '../journal.js';
import { preflight } from '../preflight.js';
import { shouldUndo } from '../questions.js';
import { emptyReport, stepTitles, type EnableReport, type StepId } from '../report.js';
import { runPlan } from '../runner.js';
import { Stopped } from '../signals.js';
import { failedRunError } from '../outcome.js';
import type { RunSession } from '../session.js';
import { settleUnfinishedRuns } from '../unfinished.js';
import { enforceStep, type EnforceEvidence } from './enforce.js';
import { installFilesStep } from './installFiles.js';
import type { EnableOptions } from './options.js';
import { planEnable, type EnablePlan } from './plan.js';
import { sessionsStep } from './sessions.js';
import { tlsOnStep } from './tlsOn.js';
import { chooseConfirmWindow } from '../confirm/ask.js';
import { confirmHow, withConfirmWindow } from '../confirm/step.js';
import { finalReplicas, previewReplicas } from './replicas.js';
import type { JudgedClient } from '../../readiness/verdicts.js';
import { checkPlanPreconditions, checkStateDirUsable } from './preconditions.js';

export { VerificationFailed, type EnableOptions } from './options.js';

const totalSteps = Object.keys(stepTitles).length;

/**
 * Enable's primary plan on an open run session (flow/enable/primaryOrStandby.ts
 * opens it and reads `facts`, which chose this plan): the preflight starts
 * from those facts, every later step runs on the same session. Changes the
 * server as the steps say, undone on failure; throws with the report attached.
 */
export async function runEnable(options: EnableOptions, session: RunSession, facts: ServerFacts): Promise<EnableReport> {
  const report = emptyReport(options.dryRun);
  const { view, prompter } = options;
  const step = (id: StepId) => report.steps.find((s) => s.id === id)!;
  const announce = (id: StepId) => view.step(report.steps.findIndex((s) => s.id === id) + 1, totalSteps, step(id).title);
  // DNS for the certificate's names runs while we learn.
  const hostNames = localHostNames();
  let changes: RunChanges | undefined;
  const { client, stop } = session;
  try {
    announce('preflight');
    let pre = await preflight(client, { lock: !options.dryRun, facts });
    report.server = { version: pre.facts.versionText.split(' ').slice(0, 2).join(' '), dataDirectory: pre.dataDirectory, hbaFile: pre.hbaFile, port: pre.port, systemIdentifier: pre.systemIdentifier };
    view.detail(`${report.server.version}, data directory ${pre.dataDirectory}, pg_hba.conf ${pre.hbaFile}`);
    view.detail(`listen_addresses = '${pre.listen.addresses}', port ${pre.port}; ${pre.hba.ruleCount} pg_hba.conf rules; ${pre.sessions.length} other TCP session(s)`);
    const state = stateFor(options, pre.dataDirectory);
    if (!options.dryRun) {
      checkStateDirUsable(state);
      // Created here, owned by the data directory's owner when root: the CA and the journals go into it next.
      ensureStateDir(process.env, state.dir, state.owner);
    }
    const server = { systemIdentifier: pre.systemIdentifier, dataDirectory: pre.dataDirectory, port: pre.port };
    report.recovered = await settleUnfinishedRuns({ state, server, client, target: options.target, dataDirectory: pre.dataDirectory, prompter, yes: options.yes, readOnly: options.dryRun ? '--dry-run' : undefined, view, command: 'enable' });
    // The undo changed settings and files: plan from what the server has now (the run lock is already ours).
    if (report.recovered.length > 0) pre = await preflight(client, { lock: false });
    step('preflight').status = 'done';
    stop.checkpoint();

    announce('certificates');
    const plan = await planEnable(pre, options, state, report, hostNames);
    step('certificates').status = plan.decision.action === 'keep' ? 'already-done' : options.dryRun ? 'planned' : 'done';
    checkPlanPreconditions(plan, pre, state);
    showPlan(view, report, plan.files, plan.hba);
    const refused = await checkReadiness(client, options, plan, report);
    await previewReplicas(client, plan.hba, refused, view, report);
    stop.checkpoint();

    if (options.dryRun) {
      view.detail('dry run: nothing was changed');
      report.nextSteps.push('Run the same command without --dry-run to apply this plan.');
      return report;
    }
    const confirmWithin = await chooseConfirmWindow(options, pre.facts.ownClientAddr, plan.hba.changes.length > 0);
    if (!plan.nothingToChange && !options.yes) {
      const go = await prompter.confirm({ message: 'Apply these changes now?', flag: '--yes', default: true });
      if (!go) throw new Cancelled();
    }

    const writeDirs = [...plan.files.map((f) => dirname(f.path)), ...plan.hba.files.map((f) => dirname(f.path)), state.dir];
    for (const removed of removeStaleTempFiles(writeDirs, processAlive)) view.detail(`removed ${removed}, left by a pgssl run that was killed`);
    changes = new RunChanges({ stateDir: state.dir, stateOwner: state.owner, command: 'enable', server, client, autoConfPath: pre.autoConfPath });
    const evidence: EnforceEvidence = {};
    const run = await runPlan([installFilesStep(plan.files, pre.dataDirectory, report), tlsOnStep(pre, plan, report), withConfirmWindow(enforceStep(pre, plan, report, evidence), confirmWithin, plan.hba.changes.length > 0, report), sessionsStep(options, report)], {
      client,
      target: options.target,
      changes,
      view,
      stop,
      dataDirectory: pre.dataDirectory,
      numbering: { first: 3, total: totalSteps },
      shouldUndo: (error) => (error instanceof Stopped && error.signal !== 'SIGINT' ? Promise.resolve(true) : shouldUndo(error, options)),
    });
    for (const [id, status] of Object.entries(run.statuses)) step(id as StepId).status = status!;
    report.journal = run.journal?.path;
    if (run.failure !== undefined) {
      if (run.undone) report.undone = run.undone;
      throw failedRunError(run.failure, report, Boolean(run.journal?.changed));
    }

    await finalReplicas(client, view, report);
    const now = new Date();
    const status = buildStatusReport(await collectStatusEvidenceWith(client, options.target, now, { observedTls: evidence.lastTls }), { now, expiryWarnDays: 30 });
    report.compliance = { result: status.compliance, findings: status.findings };
    report.exitCode = status.compliance === 'not-compliant' ? ExitCode.checkFailed : ExitCode.ok;
    report.changed = Boolean(run.journal?.changed);
    step('report').status = 'done';
    report.connect = connectLine(plan.connectHost, pre.port, plan.verifyName, plan.decision.caFile, options.target);
    report.nextSteps.push(
      `Clients: sslmode=verify-full with the CA ${plan.decision.caFile ?? '(your CA)'}; e.g. ${report.connect}`,
      'Standbys: add sslmode=verify-full sslrootcert=… to primary_conninfo, so that replication is verified too.',
      `The certificate expires on ${plan.decision.notAfter.slice(0, 10)}: pgssl status warns 30 days before.`,
    );
    for (const gap of report.verification.tls?.notChecked ?? []) report.nextSteps.push(`Not checked: ${gap}`);
    if (report.confirm) report.nextSteps.unshift(`Pending until ${report.confirm.deadline}: keep it with ${confirmHow}; otherwise the whole run is reverted then.`);
    return report;
  } catch (error) {
    throw failedRunError(error, report, Boolean(changes?.journal?.changed));
  }
}

/**
 * Who would be refused once the rewrite is in force (pgssl readiness, on the
 * plan itself, wizard choices included): shown before anything changes, in
 * the report for scripts, and a stop with --require-ready.
 */
async function checkReadiness(client: Client, options: EnableOptions, plan: EnablePlan, report: EnableReport): Promise<JudgedClient[]> {
  if (plan.hba.changes.length === 0) return [];
  const readiness = await assessReadiness(client, options.target, { plan: plan.hba });
  const refused = readiness.clients.filter((c) => c.judgement.verdict === 'refused');
  report.readiness = { refused: refused.length, cannotTell: readiness.cannotTell, clients: refused.map((c) => `${clientText(c)}: ${verdictText(c)}`), unknowns: readiness.unknowns.map((u) => u.message) };
  if (refused.length === 0) return refused;
  options.view.warn(`${refused.length} client(s) seen without TLS would be refused once pg_hba.conf requires TLS:`);
  for (const line of report.readiness.clients) options.view.detail(`    ${line}`);
  if (options.requireReady) {
    throw new UsageError(
      `${refused.length} client(s) seen without TLS would be refused once pg_hba.conf requires TLS (listed above; pgssl readiness shows them too); nothing was changed (--require-ready). Move them to sslmode=require, or leave their rules as host (--only-address/--only-db, or deselect them), then run enable again.`,
    );
  }
  return refused;
}

function stateFor(options: EnableOptions, dataDirectory: string): ServerStateDir {
  return options.stateDir ? { dir: options.stateDir, owner: dataDirectoryOwner(dataDirectory) } : serverStateDir(dataDirectory);
}

function connectLine(host: string, port: number, verifyName: string, caFile: string | undefined, target: ConnectionTarget): string {
  const hostPart = verifyName === host ? `host=${host}` : `host=${verifyName} hostaddr=${host}`;
  return `psql "${hostPart} port=${port} dbname=${target.database} user=${target.user} sslmode=verify-full sslrootcert=${caFile ?? 'CA.crt'}"`;
}
