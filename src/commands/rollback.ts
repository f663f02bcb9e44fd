/**
 * `pgssl rollback`: undo the last applied run on this server from its journal,
 * byte for byte, then reload and check that we can still connect.
 */
import { ExitCode, OperationalError } from '../errors.js';
import { stateDirPath } from '../files/stateDir.js';
import { latestUndoableJournal } from '../flow/journal.js';
import { undoJournalFiles } from '../flow/undo.js';
import { withClient } from '../server/connect.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { reloadAndWait } from '../server/reload.js';

export async function rollbackCommand(flags: ConnectionFlags & { json?: boolean }): Promise<number> {
  const target = resolveConnectionTarget(flags);
  const out = flags.json ? process.stderr : process.stdout;
  return withClient(target, async (client) => {
    const { rows } = await client.query(`SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, current_setting('is_superuser') = 'on' AS superuser`);
    if (!rows[0].superuser) throw new OperationalError('pgssl rollback needs a superuser connection (it reloads the configuration); nothing was changed.');
    const journal = latestUndoableJournal(stateDirPath(), rows[0].id);
    if (!journal) {
      out.write(`nothing to roll back: no applied pgssl run for this server in ${stateDirPath()}\n`);
      if (flags.json) process.stdout.write(JSON.stringify({ rolledBack: false }) + '\n');
      return ExitCode.ok;
    }
    out.write(`rolling back ${journal.path} (${journal.data.command}, ${journal.data.startedAt}, ${journal.data.status})\n`);
    const result = undoJournalFiles(journal);
    for (const path of result.restored) out.write(`  restored ${path}\n`);
    for (const path of result.removed) out.write(`  removed ${path}\n`);
    const reload = await reloadAndWait(client, target);
    out.write(`  configuration reloaded (seen after ${reload.waitedMs} ms)\n`);
    for (const failure of result.failures) out.write(`  could not restore: ${failure}\n`);
    journal.setStatus(result.failures.length ? 'undo-failed' : 'rolled-back');
    // The admin must still get in the way they came.
    await withClient(target, async (check) => check.query('SELECT 1'));
    out.write('  you can still connect as before\n');
    if (flags.json) process.stdout.write(JSON.stringify({ rolledBack: true, journal: journal.path, ...result }, null, 2) + '\n');
    return result.failures.length ? ExitCode.operational : ExitCode.ok;
  });
}
