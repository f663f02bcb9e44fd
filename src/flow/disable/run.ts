/**
 * `pgssl disable`: the safe reverse order. Preflight as enable does
 * (superuser, local, lock, unfinished runs) → plan (which rules, which
 * settings, the lockout check for ssl = off) → the runner applies loosen,
 * then tls-off, each proven on the real server, journaled, undone on failure
 * or signal; `pgssl rollback` re-enforces later.
 */
import { OperationalError } from '../../errors.js';
import { dataDirectoryOwner } from '../../files/owner.js';
import { ensureStateDir, serverStateDir } from '../../files/stateDir.js';
import { localHostNames } from '../../certs/hostNames.js';
import { isSocketHost } from '../../server/connectionTarget.js';
import { readAutoConfValues } from '../../server/autoConfValues.js';
import { probeAddressFor } from '../../status/listen.js';
import { Cancelled } from '../../ui/prompter.js';
import { RunChanges } from '../changes.js';
import { journalsOf } from '../journal.js';
import { preflight } from '../preflight.js';
import { plannedRunReport, type ReportedError, type StepReport, type StepStatus } from '../report.js';
import { runPlan } from '../runner.js';
import { Stopped } from '../signals.js';
import { failedRunError } from '../outcome.js';
import { withRunSession } from '../session.js';
import type { UndoResult } from '../undo.js';
import { settleUnfinishedRuns } from '../unfinished.js';
import { checkStateDirUsable } from '../enable/preconditions.js';
import { planDisable, type DisableOptions, type SettingUndo } from './plan.js';
import { loosenStep, tlsOffStep, type DisableEvidence } from './steps.js';
import type { EnforcementProof } from '../../server/enforcement.js';
import type { EnableView } from '../../ui/enableView.js';
import type { Prompter } from '../../ui/prompter.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import { findWriteProblems, describeWriteProblems } from '../../files/preconditions.js';

export interface DisableRunOptions extends DisableOptions {
  target: ConnectionTarget;
  dryRun: boolean;
  yes: boolean;
  stateDir?: string;
  prompter: Prompter;
  view: EnableView;
}

export interface DisableReport {
  pgssl: { command: 'disable'; reportVersion: 1 };
  dryRun: boolean;
  server?: { version: string; dataDirectory: string; hbaFile: string; port: number; systemIdentifier: string };
  steps: StepReport[];
  hba: { changes: { file: string; line: number; before: string; after: string }[]; kept: { file: string; line: number; reason: string }[]; diff: string; backups: string[] };
  settings: SettingUndo[];
  sslOffExplicitly: boolean;
  losses: string[];
  verification: { loosened?: EnforcementProof; tlsRefused?: string };
  journal?: string;
  undone?: UndoResult;
  recovered?: string[];
  changed: boolean;
  exitCode: number;
  error?: ReportedError;
  nextSteps: string[];
}

const titles: [StepReport['id'], string][] = [
  ['preflight', 'Connect and learn'],
  ['loosen', 'Loosen pg_hba.conf (hostssl → host) and prove plain clients get in'],
  ['tls-off', 'Turn TLS off and prove the server refuses it'],
  ['report', 'Report'],
];

export function emptyDisableReport(dryRun: boolean): DisableReport {
  return { ...plannedRunReport('disable', dryRun, titles), hba: { changes: [], kept: [], diff: '', backups: [] }, settings: [], sslOffExplicitly: false, losses: [] };
}

export async function runDisable(options: DisableRunOptions): Promise<DisableReport> {
  const report = emptyDisableReport(options.dryRun);
  const { view, prompter } = options;
  const step = (id: StepReport['id']) => report.steps.find((s) => s.id === id)!;
  const hostNames = localHostNames();
  let changes: RunChanges | undefined;
  return withRunSession(options.target, view, async (client, stop) => {
    try {
      view.step(1, titles.length, titles[0][1]);
      let pre = await preflight(client, { lock: !options.dryRun });
      report.server = { version: pre.facts.versionText.split(' ').slice(0, 2).join(' '), dataDirectory: pre.dataDirectory, hbaFile: pre.hbaFile, port: pre.port, systemIdentifier: pre.systemIdentifier };
      view.detail(`${report.server.version}, data directory ${pre.dataDirectory}, pg_hba.conf ${pre.hbaFile}`);
      const state = options.stateDir ? { dir: options.stateDir, owner: dataDirectoryOwner(pre.dataDirectory) } : serverStateDir(pre.dataDirectory);
      const server = { systemIdentifier: pre.systemIdentifier, dataDirectory: pre.dataDirectory, port: pre.port };
      if (!options.dryRun) {
        checkStateDirUsable(state);
        ensureStateDir(process.env, state.dir, state.owner);
      }
      report.recovered = await settleUnfinishedRuns({ state, server, client, target: options.target, dataDirectory: pre.dataDirectory, prompter, yes: options.yes, readOnly: options.dryRun ? '--dry-run' : undefined, view, command: 'disable' });
      if (report.recovered.length > 0) pre = await preflight(client, { lock: false });

      const autoConf = await readAutoConfValues(client, pre.autoConfPath);
      const { rows } = await client.query<{ setting: string }>('SELECT setting FROM pg_file_settings WHERE name = $1 AND sourcefile <> $2 AND error IS NULL ORDER BY seqno', ['ssl', pre.autoConfPath]);
      const plan = planDisable(pre, journalsOf(state.dir, server, state.owner), autoConf, rows.at(-1)?.setting, options.target, options);
      report.hba = {
        changes: plan.hba.changes,
        kept: plan.hba.kept.map((k) => ({ file: k.rule.file, line: k.rule.line, reason: k.reason })),
        diff: plan.diff,
        backups: [],
      };
      report.settings = plan.settings;
      report.sslOffExplicitly = plan.sslOffExplicitly;
      report.losses = plan.losses;
      step('preflight').status = 'done';
      showDisablePlan(view, plan, report);
      stop.checkpoint();

      if (options.dryRun) {
        report.nextSteps.push('Run the same command without --dry-run to apply this plan.');
        return report;
      }
      if (plan.nothingToChange) {
        view.ok('nothing to change: no pgssl rule to loosen and TLS is off (or kept)');
      } else if (!options.yes) {
        const go = await prompter.confirm({ message: `${plan.losses.join(' ')} Apply these changes now?`, flag: '--yes', default: false });
        if (!go) throw new Cancelled();
      }
      const writes = plan.hba.files.map((f) => ({ path: f.path, bytes: f.afterBytes.length }));
      const problems = findWriteProblems(writes);
      if (problems.length > 0) throw new OperationalError(describeWriteProblems(problems));

      const connectHost = isSocketHost(options.target.host) ? probeAddressFor(pre.listen)! : options.target.host;
      const host = await hostNames;
      changes = new RunChanges({ stateDir: state.dir, stateOwner: state.owner, command: 'disable', server, client, autoConfPath: pre.autoConfPath });
      const evidence: DisableEvidence = { backups: [] };
      const run = await runPlan([loosenStep(pre, plan, { connectHost, hostAddresses: host.interfaceAddresses }, evidence), tlsOffStep(pre, plan, connectHost, evidence)], {
        client,
        target: options.target,
        changes,
        view,
        stop,
        dataDirectory: pre.dataDirectory,
        numbering: { first: 2, total: titles.length },
        // disable is undone on any failure: a half-loosened server is no state to keep.
        shouldUndo: async (error) => !(error instanceof Cancelled) || error instanceof Stopped || !prompter.interactive || (await prompter.confirm({ message: 'Stopped. Undo the changes made so far?', flag: '(always undone without a terminal)', default: true }).catch(() => true)),
      });
      for (const [id, status] of Object.entries(run.statuses)) step(id as StepReport['id']).status = status as StepStatus;
      report.journal = run.journal?.path;
      report.hba.backups = evidence.backups;
      report.verification = { loosened: evidence.loosened, tlsRefused: evidence.tlsRefused };
      if (run.failure !== undefined) {
        report.undone = run.undone;
        throw failedRunError(run.failure, report, Boolean(run.journal?.changed));
      }
      step('report').status = 'done';
      report.changed = Boolean(run.journal?.changed);
      if (report.changed) report.nextSteps.push(`pgssl rollback undoes this (journal ${report.journal}); pgssl enable requires TLS again.`);
      if (!plan.keepSsl) report.nextSteps.push('The certificate files stay where they are (nothing names them now); remove them by hand if you wish.');
      return report;
    } catch (error) {
      throw failedRunError(error, report, Boolean(changes?.journal?.changed));
    }
  });
}

function showDisablePlan(view: EnableView, plan: ReturnType<typeof planDisable>, report: DisableReport): void {
  view.detail('Plan:');
  if (plan.hba.changes.length > 0) {
    view.detail(`  pg_hba.conf: ${plan.hba.changes.length} rule(s) back to host:`);
    view.diff(plan.diff);
  }
  for (const kept of report.hba.kept) view.detail(`  keep ${kept.file}:${kept.line} as hostssl — ${kept.reason}`);
  for (const s of plan.settings) view.detail(`  ${s.becomes === null ? `ALTER SYSTEM RESET ${s.name}` : `ALTER SYSTEM SET ${s.name} = '${s.becomes}'`};   -- now '${s.now}'`);
  if (plan.sslOffExplicitly) view.detail("  ALTER SYSTEM SET ssl = 'off';   -- postgresql.conf has ssl = on");
  if (plan.keepSsl) view.detail('  TLS stays on (--keep-ssl)');
  for (const loss of plan.losses) view.warn(loss);
}
