/** Reads rotate --ca's record from pgssl's state folder (written only through the run journal: see caSteps.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError } from '../../errors.js';
import { caRotationRecordName, parseCaRotationRecord, type CaRotationRecord } from './caRotation.js';

export function recordPath(stateDir: string): string {
  return join(stateDir, caRotationRecordName);
}

/** The record, if any. Throws OperationalError (nothing changed) for one pgssl cannot read. */
export function readCaRotationRecord(stateDir: string): CaRotationRecord | undefined {
  const path = recordPath(stateDir);
  if (!existsSync(path)) return undefined;
  try {
    return parseCaRotationRecord(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new OperationalError(`cannot read the CA rotation record ${path}: ${(error as Error).message}. Nothing was changed. Put back the file pgssl wrote (pgssl rollback undoes the last run), or remove it to start over.`);
  }
}
