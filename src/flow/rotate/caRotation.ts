/**
 * `rotate --ca`'s pure decisions: which phase a run is (begin the overlap,
 * already in it, finish it), what each bundle holds, and what the new CA's
 * files are called. No clock, no disk: the caller hands in the record and the
 * PEM text it read.
 *
 * The rotation goes through a record, `ca-rotation.json` in pgssl's state
 * folder, written through the journal like every other file (so rollback of
 * a phase takes the record back with it): a second `rotate --ca`, `--finish`
 * and `pgssl status` all read which CA is old, which is new, and when the
 * overlap began from there, never from guesses about the files.
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { normalizePem } from '../../certs/build.js';
import { utcStamp } from './decide.js';

export const caRotationRecordName = 'ca-rotation.json';

export interface CaFacts {
  certPath: string;
  /** Absent for the old CA until --finish copies its key beside its certificate. */
  keyPath?: string;
  /** SHA-256 of the DER, lower-case hex. */
  fingerprint: string;
  subject: string;
  notAfter: string;
}

export interface CaRotationRecord {
  version: 1;
  phase: 'overlap' | 'finished';
  /** When phase 1 ran (ISO 8601). */
  began: string;
  finished?: string;
  /** The server whose ssl_ca_file got the bundle (a state folder may serve several). */
  server: { systemIdentifier: string; dataDirectory: string; port: number };
  /** The client file pgssl publishes (ca.crt): the bundle during the overlap, the new CA alone after. */
  clientCaFile: string;
  old: CaFacts;
  new: CaFacts;
}

export type CaPhase =
  | { kind: 'begin' }
  | { kind: 'in-overlap'; record: CaRotationRecord }
  | { kind: 'finish'; record: CaRotationRecord }
  /** --finish with no overlap in progress (never begun, or finished already). */
  | { kind: 'nothing-to-finish'; record?: CaRotationRecord };

/** What this run is, from the record in the state folder and --finish. */
export function caPhase(record: CaRotationRecord | undefined, finish: boolean): CaPhase {
  const overlap = record?.phase === 'overlap' ? record : undefined;
  if (finish) return overlap ? { kind: 'finish', record: overlap } : { kind: 'nothing-to-finish', record };
  return overlap ? { kind: 'in-overlap', record: overlap } : { kind: 'begin' };
}

/** Parses the record; throws with what is wrong (the caller says which file). */
export function parseCaRotationRecord(text: string): CaRotationRecord {
  const data = JSON.parse(text) as Partial<CaRotationRecord>;
  if (data.version !== 1 || (data.phase !== 'overlap' && data.phase !== 'finished') || !data.old?.certPath || !data.new?.certPath || !data.new.keyPath || !data.began || !data.server || !data.clientCaFile) {
    throw new Error('not a CA rotation record pgssl wrote (version 1, phase, began, server, old, new)');
  }
  return data as CaRotationRecord;
}

/** The certificates in a PEM text, each normalised (\n, final newline), in order. */
export function pemBlocks(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((block) => normalizePem(block));
}

function fingerprintOfBlock(block: string): string {
  return new X509Certificate(block).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Each certificate once (by fingerprint), in the order first seen. */
function distinct(blocks: string[]): string[] {
  const seen = new Set<string>();
  return blocks.filter((block) => {
    const fingerprint = fingerprintOfBlock(block);
    if (seen.has(fingerprint)) return false;
    seen.add(fingerprint);
    return true;
  });
}

/**
 * The client bundle during the overlap: old first, then new. Old first
 * because ca.crt is also the certificate half of pgssl's CA (ca.key stays
 * the old key until --finish), and readers of one certificate take the first.
 */
export function overlapClientBundle(oldCaPem: string, newCaPem: string): string {
  return distinct([...pemBlocks(oldCaPem), ...pemBlocks(newCaPem)]).join('');
}

/**
 * The server's ssl_ca_file during the overlap: what it trusted before (other
 * CAs the DBA put there for client certificates stay), plus the old and the
 * new CA, each once.
 */
export function overlapServerBundle(currentPem: string | undefined, oldCaPem: string, newCaPem: string): string {
  return distinct([...pemBlocks(currentPem ?? ''), ...pemBlocks(oldCaPem), ...pemBlocks(newCaPem)]).join('');
}

/** After --finish: the bundle without the old CA (anything else the DBA trusted stays); never empty, since the new CA is kept. */
export function withoutOldCa(bundlePem: string, oldCaFingerprint: string, newCaPem: string): string {
  return distinct([...pemBlocks(bundlePem).filter((block) => fingerprintOfBlock(block) !== oldCaFingerprint), ...pemBlocks(newCaPem)]).join('');
}

export interface NewCaPaths {
  /** The new CA's own files, kept under their name for good. */
  certPath: string;
  keyPath: string;
  /** Where the old CA is kept once ca.crt/ca.key become the new one. */
  oldCertPath: string;
  oldKeyPath: string;
}

/** `ca-<UTC stamp>.crt/.key` for the new CA, `ca-before-<stamp>.crt/.key` for the old one; never a name that exists. */
export function newCaPaths(stateDir: string, now: Date, exists: (path: string) => boolean): NewCaPaths {
  const stamp = utcStamp(now);
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? '' : `-${n}`;
    const paths = {
      certPath: join(stateDir, `ca-${stamp}${suffix}.crt`),
      keyPath: join(stateDir, `ca-${stamp}${suffix}.key`),
      oldCertPath: join(stateDir, `ca-before-${stamp}${suffix}.crt`),
      oldKeyPath: join(stateDir, `ca-before-${stamp}${suffix}.key`),
    };
    if (!Object.values(paths).some(exists)) return paths;
  }
}

/** The server CA file written beside the one in force (or the certificate): `root-<stamp>.crt`, never a name that exists. */
export function newServerCaPath(dir: string, now: Date, exists: (path: string) => boolean): string {
  const stamp = utcStamp(now);
  for (let n = 1; ; n++) {
    const path = join(dir, `root-${stamp}${n === 1 ? '' : `-${n}`}.crt`);
    if (!exists(path)) return path;
  }
}

/** "2026-12-01 22:00 UTC": how the messages say when the overlap began. */
export function shownTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
