/**
 * `pgssl rotate`: preflight as enable does (superuser, local, lock,
 * unfinished runs) → what the server serves now, and whether it is due
 * (--if-expiring-within, --check) → the new pair from the same CA (or the
 * DBA's files) → preview, confirm → the runner writes the pair under new
 * names and swaps both settings in one reload, proven by a fresh verify-full
 * handshake that serves the new certificate; undone on failure or signal,
 * `pgssl rollback` returns to the old pair later.
 */
import { dirname, join } from 'node:path';
import { ExitCode, OperationalError } from '../../errors.js';
import { removeStaleTempFiles } from '../../files/atomicWrite.js';
import { dataDirectoryOwner } from '../../files/owner.js';
import { describeWriteProblems, findWriteProblems } from '../../files/preconditions.js';
import { ensureStateDir, serverStateDir } from '../../files/stateDir.js';
import { localHostNames } from '../../certs/hostNames.js';
import { defaultServerNames } from '../../certs/names.js';
import { parseSubjectAltName } from '../../certs/x509.js';
import { isSocketHost } from '../../server/connectionTarget.js';
import { fingerprintOf } from '../../server/verifyTls.js';
import { probeAddressFor } from '../../status/listen.js';
import { Cancelled } from '../../ui/prompter.js';
import { RunChanges } from '../changes.js';
import { checkStateDirUsable } from '../enable/preconditions.js';
import { processAlive } from '../journal.js';
import { preflight } from '../preflight.js';
import { askSans, shouldUndo } from '../questions.js';
import type { StepStatus } from '../report.js';
import { runPlan } from '../runner.js';
import { Stopped } from '../signals.js';
import { failedRunError } from '../outcome.js';
import { withRunSession } from '../session.js';
import { settleUnfinishedRuns } from '../unfinished.js';
import { expiryOf } from './decide.js';
import { defaultCheckDays, type RotateOptions } from './options.js';
import { observeServed, planRotate, type RotatePlan } from './plan.js';
import { heldView } from './quietView.js';
import { emptyRotateReport, rotateSteps, type RotateReport } from './report.js';
import { installPairStep, swapStep } from './steps.js';

export async function runRotate(options: RotateOptions): Promise<RotateReport> {
  const report = emptyRotateReport(options.dryRun, options.check);
  const { prompter } = options;
  // cron and timers: silence until we know it is due (see quietView.ts).
  const view = heldView(options.view, !options.verbose && (options.check || options.ifExpiringWithin !== undefined));
  const step = (id: RotateReport['steps'][number]['id']) => report.steps.find((s) => s.id === id)!;
  const announce = (index: number) => view.step(index + 1, rotateSteps.length, rotateSteps[index][1]);
  const readOnly = options.dryRun || options.check;
  const hostNames = localHostNames();
  let changes: RunChanges | undefined;
  return withRunSession(options.target, view, async (client, stop) => {
    try {
      announce(0);
      let pre = await preflight(client, { lock: !readOnly });
      report.server = { version: pre.facts.versionText.split(' ').slice(0, 2).join(' '), dataDirectory: pre.dataDirectory, port: pre.port, systemIdentifier: pre.systemIdentifier };
      view.detail(`${report.server.version}, data directory ${pre.dataDirectory}`);
      const state = options.stateDir ? { dir: options.stateDir, owner: dataDirectoryOwner(pre.dataDirectory) } : serverStateDir(pre.dataDirectory);
      const server = { systemIdentifier: pre.systemIdentifier, dataDirectory: pre.dataDirectory, port: pre.port };
      if (!readOnly) {
        checkStateDirUsable(state);
        ensureStateDir(process.env, state.dir, state.owner);
      }
      report.recovered = await settleUnfinishedRuns({ state, server, client, target: options.target, dataDirectory: pre.dataDirectory, prompter, yes: options.yes, dryRun: readOnly, view, command: 'rotate' });
      if (report.recovered.length > 0) pre = await preflight(client, { lock: false });
      step('preflight').status = 'done';
      stop.checkpoint();

      announce(1);
      const connectHost = isSocketHost(options.target.host) ? probeAddressFor(pre.listen)! : options.target.host;
      const served = await observeServed(pre, connectHost);
      const now = new Date();
      const expiry = expiryOf(served.notAfter, now, options.ifExpiringWithin ?? defaultCheckDays);
      report.before = { fingerprint: served.fingerprint, notAfter: expiry.notAfter, names: parseSubjectAltName(served.certificate.subjectAltName) };
      view.detail(`serving ${served.fingerprint.slice(0, 16)}… (${report.before.names.join(', ')}), expires on ${expiry.notAfter.slice(0, 10)} (${expiry.daysLeft} days left)`);
      if (options.check || options.ifExpiringWithin !== undefined) {
        report.expiry = expiry;
        report.due = expiry.due;
        const verdict = expiry.due ? `due: the served certificate expires on ${expiry.notAfter.slice(0, 10)}, within ${expiry.withinDays} days` : `not due, expires on ${expiry.notAfter.slice(0, 10)} (${expiry.daysLeft} days left, more than ${expiry.withinDays})`;
        if (expiry.due) view.release();
        if (expiry.due) view.warn(verdict);
        else view.ok(verdict);
        if (options.check || !expiry.due) {
          if (!expiry.due) view.drop();
          step('certificates').status = 'done';
          report.exitCode = options.check && expiry.due ? ExitCode.checkFailed : ExitCode.ok;
          if (options.check && expiry.due) report.nextSteps.push('pgssl rotate --yes issues a new certificate and swaps it in.');
          return report;
        }
      }
      view.release();

      const host = await hostNames;
      const extraNames = prompter.interactive && !options.yes ? [...options.san, ...(await askSans(prompter, defaultServerNames({ ...host, listenAddresses: pre.listen.addresses ?? undefined, extra: options.san })))] : options.san;
      const plan = await planRotate({ pre, options, stateDir: state.dir, connectHost, served, host, extraNames, now });
      report.before = { ...report.before, certFile: plan.inForce.certPath, keyFile: plan.inForce.keyPath };
      if (plan.alreadyInForce) {
        // The Ansible role's second run: the same files again. Nothing to write, set or reload.
        view.ok(`the server already serves these files (${plan.inForce.certPath}, ${plan.inForce.keyPath}): nothing to do`);
        for (const id of ['certificates', 'install-files', 'swap', 'report'] as const) step(id).status = 'already-done';
        report.nextSteps.push('Nothing was changed: --cert-file and --key-file are the pair in force, byte for byte, and the server serves it.');
        return report;
      }
      report.after = { description: plan.description, fingerprint: plan.certificatePem ? fingerprintOf(plan.certificatePem) : '', notAfter: plan.notAfter, names: plan.names, certFile: plan.files[0].path, keyFile: plan.files[1].path };
      report.caFile = plan.trustFile;
      report.settings = plan.settings;
      step('certificates').status = options.dryRun ? 'planned' : 'done';
      showRotatePlan(view, plan);
      stop.checkpoint();

      if (options.dryRun) {
        view.detail('dry run: nothing was changed');
        report.nextSteps.push('Run the same command without --dry-run to apply this plan.');
        return report;
      }
      if (!options.yes) {
        const go = await prompter.confirm({ message: 'Swap the server to the new certificate now?', flag: '--yes', default: true });
        if (!go) throw new Cancelled();
      }
      const writes = [...plan.files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.content) })), { path: join(state.dir, 'runs', pre.systemIdentifier, 'journal.json'), bytes: 64 * 1024, createFolders: true }];
      const problems = findWriteProblems(writes);
      if (problems.length > 0) throw new OperationalError(describeWriteProblems(problems));
      for (const removed of removeStaleTempFiles([...plan.files.map((f) => dirname(f.path)), state.dir], processAlive)) view.detail(`removed ${removed}, left by a pgssl run that was killed`);

      changes = new RunChanges({ stateDir: state.dir, stateOwner: state.owner, command: 'rotate', server, client, autoConfPath: pre.autoConfPath });
      const run = await runPlan([installPairStep(plan, pre.dataDirectory, report), swapStep(pre, plan, connectHost, report)], {
        client,
        target: options.target,
        changes,
        view,
        stop,
        dataDirectory: pre.dataDirectory,
        numbering: { first: 3, total: rotateSteps.length },
        shouldUndo: (error) => (error instanceof Stopped && error.signal !== 'SIGINT' ? Promise.resolve(true) : shouldUndo(error, options)),
      });
      for (const [id, status] of Object.entries(run.statuses)) step(id as RotateReport['steps'][number]['id']).status = status as StepStatus;
      report.journal = run.journal?.path;
      if (run.failure !== undefined) {
        report.undone = run.undone;
        throw failedRunError(run.failure, report, Boolean(run.journal?.changed));
      }
      step('report').status = 'done';
      report.changed = Boolean(run.journal?.changed);
      report.nextSteps.push(
        `The server serves the new certificate until ${plan.notAfter.slice(0, 10)}; clients keep their CA file${plan.trustFile ? ` (${plan.trustFile})` : ''}.`,
        `pgssl rollback returns to the previous pair (journal ${report.journal}); ${plan.inForce.certPath} and ${plan.inForce.keyPath} stay on disk until you remove them.`,
      );
      return report;
    } catch (error) {
      // What led up to a failure is worth seeing even from a timer.
      view.release();
      throw failedRunError(error, report, Boolean(changes?.journal?.changed));
    }
  });
}

function showRotatePlan(view: { detail(text: string): void; warn(text: string): void }, plan: RotatePlan): void {
  view.detail(`use ${plan.description}`);
  view.detail(`names: ${plan.names.join(', ')}`);
  view.detail('Plan:');
  for (const file of plan.files) view.detail(`  write ${file.path} (mode ${file.mode.toString(8).padStart(4, '0')})`);
  for (const setting of plan.settings) view.detail(`  ${setting.sql};   -- now ${setting.before ?? '(not set)'}`);
  view.detail('  SELECT pg_reload_conf();   -- one reload for both');
  view.detail(`  then a fresh verify-full handshake against ${plan.trustFile ?? 'the CA'} must serve the new certificate`);
  for (const warning of plan.warnings) view.warn(warning);
}
