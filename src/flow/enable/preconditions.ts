/**
 * Every file the plan will write, checked before the first change: the
 * certificate files and their folder, each pg_hba.conf file (through links),
 * and the state folder for the journal and backups. A problem here stops the
 * run with nothing changed, instead of TLS turned on and a failure half-way.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError } from '../../errors.js';
import { describeWriteProblems, findWriteProblems, type PlannedWrite } from '../../files/preconditions.js';
import type { ServerStateDir } from '../../files/stateDir.js';
import type { Preflight } from '../preflight.js';
import type { EnablePlan } from './plan.js';

export function checkPlanPreconditions(plan: EnablePlan, pre: Preflight, state: ServerStateDir): void {
  const writes: PlannedWrite[] = [];
  for (const file of plan.files) writes.push({ path: file.path, bytes: Buffer.byteLength(file.content) });
  for (const file of plan.hba.files) writes.push({ path: file.path, bytes: file.beforeBytes.length });
  if (writes.length > 0) {
    // The journal, and a backup of every file replaced (pg_hba.conf twice: the merge keeps what pgssl wrote).
    const backups = [...plan.files.map((f) => sizeOf(f.path)), ...plan.hba.files.map((f) => 2 * f.beforeBytes.length)].reduce((a, b) => a + b, 0);
    writes.push({ path: join(state.dir, 'runs', pre.systemIdentifier, 'journal.json'), bytes: backups + 64 * 1024, createFolders: true });
  }
  const problems = findWriteProblems(writes);
  if (problems.length > 0) throw new OperationalError(describeWriteProblems(problems));
}

/** The state folder (CA, journals, backups) must be creatable and writable before the certificate step uses it. */
export function checkStateDirUsable(state: ServerStateDir): void {
  const problems = findWriteProblems([{ path: state.dir, bytes: 64 * 1024, folder: true }]);
  if (problems.length > 0) {
    throw new OperationalError(`${describeWriteProblems(problems)}\n(That is pgssl's state folder, for its CA, run journals and backups: set PGSSL_STATE_DIR to a folder you can write, or run as root or the data directory's owner.)`);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
