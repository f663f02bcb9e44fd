/**
 * `pgssl rollback`: undo the last applied (or unfinished) run on this server
 * from its journal. Online: settings as settings, files byte for byte, reload,
 * and proof that the admin still gets in. With `-D DATADIR` while the server
 * is down: the same undo, settings written into postgresql.auto.conf.
 * Files or settings changed since pgssl wrote them stop it before any change:
 * the diff is shown and the DBA chooses (--merge, --force, or leave it).
 */
import { ExitCode, OperationalError, PgsslError, reportedError } from '../errors.js';
import { Journal } from '../flow/journal.js';
import { emptyRollbackReport, findRunToUndo, findRunToUndoOffline, rollbackState, stoppedDataDirectory, undoRun, type RollbackReport } from '../flow/rollback.js';
import { reportUndo } from '../flow/runner.js';
import type { ConflictResolution, UndoResult, UndoServer } from '../flow/undo.js';
import { offlineUndoServer, onlineUndoServer } from '../flow/undoServers.js';
import { takeRunLock } from '../server/advisoryLock.js';
import { withClient } from '../server/connect.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { textView, type EnableView } from '../ui/enableView.js';
import { interactivePrompter, nonInteractivePrompter, type Prompter } from '../ui/prompter.js';
import { colourWanted, makeStyle } from '../ui/style.js';
import { exitCodeOf, printJson } from './jsonReport.js';

export interface RollbackFlags extends ConnectionFlags {
  json?: boolean;
  color?: boolean;
  yes?: boolean;
  nonInteractive?: boolean;
  merge?: boolean;
  force?: boolean;
  pgdata?: string;
}

export async function rollbackCommand(flags: RollbackFlags): Promise<number> {
  const out = flags.json ? process.stderr : process.stdout;
  const view = textView(out, makeStyle(colourWanted(flags.color, out as NodeJS.WriteStream)));
  const interactive = Boolean(process.stdin.isTTY) && !flags.nonInteractive && !flags.json;
  const prompter = interactive ? interactivePrompter() : nonInteractivePrompter(Boolean(flags.yes));
  const report = emptyRollbackReport(Boolean(flags.pgdata));
  try {
    if (flags.merge && flags.force) throw new PgsslError('choose one of --merge and --force', ExitCode.usage);
    const asked: ConflictResolution | undefined = flags.force ? 'force' : flags.merge ? 'merge' : undefined;
    report.exitCode = flags.pgdata ? await offline(flags.pgdata, asked, report, view, prompter) : await online(flags, asked, report, view, prompter);
  } catch (error) {
    report.error = reportedError(error);
    report.exitCode = exitCodeOf(error);
    if (flags.json) printJson('rollback', report, { exitCode: report.exitCode, changed: report.changed, error: report.error });
    throw error;
  }
  report.ok = report.exitCode === ExitCode.ok;
  if (flags.json) printJson('rollback', report, { exitCode: report.exitCode, changed: report.changed });
  return report.exitCode;
}

async function online(flags: RollbackFlags, asked: ConflictResolution | undefined, report: RollbackReport, view: EnableView, prompter: Prompter): Promise<number> {
  const target = resolveConnectionTarget(flags);
  return withClient(target, async (client) => {
    const { rows } = await client.query(
      `SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, current_setting('is_superuser') = 'on' AS superuser,
              current_setting('data_directory') AS data_directory, current_setting('port')::int AS port`,
    );
    if (!rows[0].superuser) throw new OperationalError('pgssl rollback needs a superuser connection (it runs ALTER SYSTEM and reloads the configuration); nothing was changed.');
    await takeRunLock(client);
    const server = { systemIdentifier: rows[0].id, dataDirectory: rows[0].data_directory, port: rows[0].port };
    const state = rollbackState(server.dataDirectory);
    const { journal, elsewhere } = findRunToUndo(state, server);
    if (!journal) return nothingToRollBack(state.dir, elsewhere, report, view);
    const undo = await undoChosen(journal, onlineUndoServer(client, target, server.dataDirectory), asked, report, view, prompter);
    if (!undo) return ExitCode.operational;
    // The admin must still get in the way they came.
    await withClient(target, async (check) => check.query('SELECT 1'));
    view.ok('you can still connect as before');
    return finish(undo, report);
  });
}

async function offline(given: string, asked: ConflictResolution | undefined, report: RollbackReport, view: EnableView, prompter: Prompter): Promise<number> {
  const dataDirectory = stoppedDataDirectory(given);
  const state = rollbackState(dataDirectory);
  const { journal, elsewhere } = findRunToUndoOffline(state, dataDirectory);
  if (!journal) return nothingToRollBack(state.dir, elsewhere, report, view);
  const undo = await undoChosen(journal, offlineUndoServer(dataDirectory, undefined), asked, report, view, prompter);
  if (!undo) return ExitCode.operational;
  report.nextSteps.push(`Start the server (e.g. pg_ctlcluster, systemctl start postgresql, or pg_ctl -D ${dataDirectory} start): it reads the restored configuration.`);
  view.detail(report.nextSteps[0]);
  return finish(undo, report);
}

function nothingToRollBack(stateDir: string, elsewhere: string[], report: RollbackReport, view: EnableView): number {
  report.elsewhere = elsewhere;
  if (elsewhere.length > 0) {
    view.fail(`no pgssl run to undo for this server in ${stateDir}, but there is one in ${elsewhere.join(', ')}: run pgssl rollback with PGSSL_STATE_DIR=${elsewhere[0]}`);
    return ExitCode.operational;
  }
  view.detail(`nothing to roll back: no applied pgssl run for this server in ${stateDir}`);
  return ExitCode.ok;
}

/** Undo with `stop` first; on conflicts, show them and use the answer (flag, or the DBA's choice). Undefined: left as it is. */
async function undoChosen(journal: Journal, server: UndoServer, asked: ConflictResolution | undefined, report: RollbackReport, view: EnableView, prompter: Prompter): Promise<UndoResult | undefined> {
  report.journal = journal.path;
  report.run = { command: journal.data.command, startedAt: journal.data.startedAt, status: journal.data.status };
  view.detail(`rolling back ${journal.path} (${journal.data.command}, ${journal.data.startedAt}, ${journal.data.status})`);
  let undo = await undoRun(journal, server, asked ?? 'stop');
  if (undo.stopped) {
    report.undo = undo;
    for (const conflict of undo.conflicts) {
      view.warn(conflict.message);
      if (conflict.diff) view.diff(conflict.diff);
    }
    const mergeable = undo.conflicts.every((c) => c.mergeable);
    if (!prompter.interactive) {
      throw new OperationalError(
        `files or settings changed after pgssl wrote them (shown above); nothing was changed. Choose: --merge undoes only pgssl's own lines and settings and keeps the later edits${mergeable ? '' : " (where the edits overlap pgssl's, those files stay as they are)"}; --force restores pgssl's backups over the later edits; or leave it as it is.`,
      );
    }
    const choice = await prompter.select<ConflictResolution | 'leave'>({
      message: 'Files or settings changed after pgssl wrote them. What now?',
      flag: '--merge / --force',
      default: mergeable ? 'merge' : 'leave',
      choices: [
        { value: 'merge', name: `Undo only pgssl's own lines and settings, keep the later edits${mergeable ? '' : ' (overlapping files stay as they are)'}` },
        { value: 'force', name: "Restore pgssl's backups over the later edits" },
        { value: 'leave', name: 'Leave everything as it is' },
      ],
    });
    if (choice === 'leave') {
      view.detail('left as it is; nothing was changed');
      return undefined;
    }
    undo = await undoRun(journal, server, choice);
  }
  report.undo = undo;
  reportUndo(undo, view);
  return undo;
}

function finish(undo: UndoResult, report: RollbackReport): number {
  report.rolledBack = undo.failures.length === 0;
  report.changed = undo.restored.length + undo.removed.length + undo.settings.length > 0;
  if (undo.failures.length > 0 || undo.restartProblems.length > 0) return ExitCode.operational;
  return ExitCode.ok;
}
