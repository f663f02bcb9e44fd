/**
 * `pgssl rotate`: preflight as enable does (superuser, local, lock,
 * unfinished runs) → what the server serves now, and whether it is due
 * (--if-expiring-within, --check) → the new pair from the same CA (or the
 * DBA's files) → preview, confirm → the runner writes the pair under new
 * names and swaps both settings in one reload, proven by a fresh verify-full
 * handshake that serves the new certificate; undone on failure or signal,
 * `pgssl rollback` returns to the old pair later. With --ca the same flow
 * runs a CA rotation phase instead of the pair (caRun.ts): only the plan and
 * its steps differ.
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
import { rotateThroughManager } from '../../replication/managers.js';
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
import { prepareCaPhase } from './caRun.js';
import { observeServed, planRotate, type PlanInput } from './plan.js';
import { showRotatePlan, type PreparedRotation } from './prepared.js';
import { heldView, type HeldView } from './quietView.js';
import { emptyRotateReport, type RotateReport } from './report.js';
import { installPairStep, swapStep } from './steps.js';

export async function runRotate(options: RotateOptions): Promise<RotateReport> {
  const report = emptyRotateReport(options.dryRun, options.check, Boolean(options.ca));
  const { prompter } = options;
  // cron and timers: silence until we know it is due (see quietView.ts).
  const view = heldView(options.view, !options.verbose && (options.check || options.ifExpiringWithin !== undefined));
  const step = (id: RotateReport['steps'][number]['id']) => report.steps.find((s) => s.id === id)!;
  const announce = (index: number) => view.step(index + 1, report.steps.length, report.steps[index].title);
  const readOnly = options.dryRun || options.check;
  const hostNames = localHostNames();
  let changes: RunChanges | undefined;
  return withRunSession(options.target, view, async (client, stop) => {
    try {
      announce(0);
      // Only --check leaves the server as it is, so only it runs on a managed server (and names the
      // manager); --dry-run stays refused like the rotation it previews (preflight.ts, ManagedServer).
      const managed = options.check ? 'report' : 'refuse';
      let pre = await preflight(client, { lock: !readOnly, managed });
      report.server = { version: pre.facts.versionText.split(' ').slice(0, 2).join(' '), dataDirectory: pre.dataDirectory, port: pre.port, systemIdentifier: pre.systemIdentifier };
      view.detail(`${report.server.version}, data directory ${pre.dataDirectory}`);
      if (pre.managers.length > 0) {
        report.managers = pre.managers;
        for (const m of pre.managers) view.detail(`managed by ${m.tool} (${m.evidence[0]}): this check only reads; the certificate is rotated through ${m.tool}`);
      }
      const state = options.stateDir ? { dir: options.stateDir, owner: dataDirectoryOwner(pre.dataDirectory) } : serverStateDir(pre.dataDirectory);
      const server = { systemIdentifier: pre.systemIdentifier, dataDirectory: pre.dataDirectory, port: pre.port };
      if (!readOnly) {
        checkStateDirUsable(state);
        ensureStateDir(process.env, state.dir, state.owner);
      }
      report.recovered = await settleUnfinishedRuns({ state, server, client, target: options.target, dataDirectory: pre.dataDirectory, prompter, yes: options.yes, readOnly: options.check ? '--check' : options.dryRun ? '--dry-run' : undefined, view, command: 'rotate' });
      if (report.recovered.length > 0) pre = await preflight(client, { lock: false, managed });
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
          if (options.check && expiry.due) {
            report.nextSteps.push(...(pre.managers.length > 0 ? pre.managers.map(rotateThroughManager) : ['pgssl rotate --yes issues a new certificate and swaps it in.']));
          }
          return report;
        }
      }
      view.release();

      const host = await hostNames;
      // rotate --ca's first phase issues no server certificate: no names to ask for.
      const asksNames = prompter.interactive && !options.yes && !(options.ca && !options.ca.finish);
      const extraNames = asksNames ? [...options.san, ...(await askSans(prompter, defaultServerNames({ ...host, listenAddresses: pre.listen.addresses ?? undefined, extra: options.san })))] : options.san;
      const input = { pre, options, stateDir: state.dir, connectHost, served, host, extraNames, now };
      const owners = { state: state.owner, server: dataDirectoryOwner(pre.dataDirectory) };
      const prepared = options.ca ? await prepareCaPhase(input, options.ca, owners, report, view) : await prepareCertificateRotation(input, report, view);
      if (prepared === 'nothing-to-do') {
        step('certificates').status = 'already-done';
        for (const s of report.steps) if (s.status === 'planned' && s.id !== 'report') s.status = 'skipped';
        step('report').status = 'done';
        return report;
      }
      step('certificates').status = options.dryRun ? 'planned' : 'done';
      stop.checkpoint();

      if (options.dryRun) {
        view.detail('dry run: nothing was changed');
        report.nextSteps.push('Run the same command without --dry-run to apply this plan.');
        return report;
      }
      if (!options.yes) {
        for (const question of prepared.questions) {
          const go = await prompter.confirm({ message: question, flag: '--yes', default: true });
          if (!go) throw new Cancelled();
        }
      }
      const writes = [...prepared.files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.content) })), { path: join(state.dir, 'runs', pre.systemIdentifier, 'journal.json'), bytes: 64 * 1024, createFolders: true }];
      const problems = findWriteProblems(writes);
      if (problems.length > 0) throw new OperationalError(describeWriteProblems(problems));
      for (const removed of removeStaleTempFiles([...new Set([...prepared.files.map((f) => dirname(f.path)), state.dir])], processAlive)) view.detail(`removed ${removed}, left by a pgssl run that was killed`);

      changes = new RunChanges({ stateDir: state.dir, stateOwner: state.owner, command: 'rotate', server, client, autoConfPath: pre.autoConfPath });
      const run = await runPlan(prepared.steps, {
        client,
        target: options.target,
        changes,
        view,
        stop,
        dataDirectory: pre.dataDirectory,
        numbering: { first: 3, total: report.steps.length },
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
      report.nextSteps.push(...prepared.nextSteps(report.journal));
      return report;
    } catch (error) {
      // What led up to a failure is worth seeing even from a timer.
      view.release();
      throw failedRunError(error, report, Boolean(changes?.journal?.changed));
    }
  });
}

async function prepareCertificateRotation(input: PlanInput, report: RotateReport, view: HeldView): Promise<PreparedRotation | 'nothing-to-do'> {
  const { pre, connectHost } = input;
  const plan = await planRotate(input);
  report.before = { ...report.before!, certFile: plan.inForce.certPath, keyFile: plan.inForce.keyPath };
  if (plan.alreadyInForce) {
    // The Ansible role's second run: the same files again. Nothing to write, set or reload.
    view.ok(`the server already serves these files (${plan.inForce.certPath}, ${plan.inForce.keyPath}): nothing to do`);
    report.nextSteps.push('Nothing was changed: --cert-file and --key-file are the pair in force, byte for byte, and the server serves it.');
    return 'nothing-to-do';
  }
  report.after = { description: plan.description, fingerprint: plan.certificatePem ? fingerprintOf(plan.certificatePem) : '', notAfter: plan.notAfter, names: plan.names, certFile: plan.files[0].path, keyFile: plan.files[1].path };
  report.caFile = plan.trustFile;
  report.settings = plan.settings;
  showRotatePlan(view, plan);
  return {
    steps: [installPairStep(plan, pre.dataDirectory, report), swapStep(pre, plan, connectHost, report)],
    files: plan.files,
    questions: ['Swap the server to the new certificate now?'],
    nextSteps: (journal) => [
      `The server serves the new certificate until ${plan.notAfter.slice(0, 10)}; clients keep their CA file${plan.trustFile ? ` (${plan.trustFile})` : ''}.`,
      `pgssl rollback returns to the previous pair (journal ${journal}); ${plan.inForce.certPath} and ${plan.inForce.keyPath} stay on disk until you remove them.`,
    ],
  };
}
