/**
 * Every file the plan will write, checked before the first change: the
 * certificate files and their folder, each pg_hba.conf file (through links),
 * and the state folder for the journal and backups. A problem here stops the
 * run with nothing changed, instead of TLS turned on and a failure half-way.
 */
import { statSync } from 'node:fs';
import { writeTarget } from '../../files/atomicWrite.js';
import { checkWritable, type PlannedWrite } from '../../files/writable.js';
import type { ServerStateDir } from '../../files/stateDir.js';
import { OperationalError } from '../../errors.js';
import type { Preflight } from '../preflight.js';
import type { EnablePlan } from './plan.js';

export function checkPlanPreconditions(plan: EnablePlan, pre: Preflight, state: ServerStateDir): void {
  const writes: PlannedWrite[] = [];
  for (const file of plan.files) writes.push({ path: file.path, bytes: Buffer.byteLength(file.content) });
  for (const file of plan.hba.files) writes.push({ path: writeTarget(file.path), bytes: file.beforeBytes.length });
  // The journal and a backup of every file replaced.
  const backups = writes.reduce((sum, w) => sum + sizeOf(w.path), 0) + plan.hba.files.reduce((sum, f) => sum + f.beforeBytes.length, 0);
  if (writes.length > 0) writes.push({ path: `${state.dir}/runs/${pre.systemIdentifier}/.journal`, bytes: backups + 64 * 1024, createFolders: true });
  const problems = checkWritable(writes);
  if (problems.length > 0) {
    throw new OperationalError(`pgssl could not make its changes, so it made none:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The state folder (CA, journals, backups) must be creatable and writable before the certificate step uses it. */
export function checkStateDirUsable(state: ServerStateDir): void {
  const problems = checkWritable([{ path: `${state.dir}/.journal`, bytes: 64 * 1024, createFolders: true }]);
  if (problems.length > 0) {
    throw new OperationalError(`pgssl's state folder ${state.dir} (its CA, run journals and backups) cannot be used, so nothing was changed:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSet PGSSL_STATE_DIR to a folder you can write, or run as root or the data directory's owner.`);
  }
}
