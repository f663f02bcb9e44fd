/** What `pgssl rotate` did, as data: rendered as text or returned as --json. */
import type { ConfigurationManager } from '../../replication/managers.js';
import type { TlsVerification } from '../../server/verifyTls.js';
import { plannedRunReport, type ReportedError, type StepReport } from '../report.js';
import type { SettingChange } from '../tlsSettings.js';
import type { UndoResult } from '../undo.js';
import type { CaFacts } from './caRotation.js';
import type { Expiry } from './decide.js';

export interface CertificateFacts {
  fingerprint: string;
  notAfter: string;
  names: string[];
  certFile?: string;
  keyFile?: string;
}

export interface CaProofReport {
  /** CA files a verify-full client used (ok: it verified). */
  verifies: { what: string; ok: boolean; reason?: string }[];
  /** CA files that must no longer verify (ok: refused, as wanted). */
  refused: { what: string; ok: boolean; reason?: string }[];
  /** A throwaway client certificate from each CA against the ssl_ca_file in force. */
  clientCertificates: { ca: string; subject: string; accepted: boolean; expected: boolean; reason?: string }[];
}

/** rotate --ca: which phase, the two CAs, the files clients and the server trust, and the proof. */
export interface CaRotationReport {
  phase: 'begin' | 'in-overlap' | 'finish';
  began: string;
  finished?: string;
  oldCa: CaFacts;
  newCa: CaFacts;
  /** The client file pgssl publishes (sslrootcert). */
  clientCaFile: string;
  /** The ssl_ca_file the phase points the server at. */
  serverCaFile?: string;
  /** Said before any change (--finish: client certificates from the old CA will be refused). */
  warnings: string[];
  proof?: CaProofReport;
}

export interface RotateReport {
  pgssl: { command: 'rotate'; reportVersion: 1 };
  dryRun: boolean;
  check: boolean;
  server?: { version: string; dataDirectory: string; port: number; systemIdentifier: string };
  /** rotate --check on a server whose configuration a tool regenerates (status's `managers`); every other rotate refuses there. */
  managers?: ConfigurationManager[];
  steps: StepReport[];
  /** The served certificate against the threshold (--if-expiring-within / --check). */
  expiry?: Expiry;
  /** False when --if-expiring-within or --check found it not due. */
  due?: boolean;
  before?: CertificateFacts;
  after?: CertificateFacts & { description: string };
  /** The CA file clients already have, which the new certificate was verified against. */
  caFile?: string;
  files: { path: string; role: string; action: string; mode: string }[];
  settings: SettingChange[];
  verification: { tls?: TlsVerification };
  /** Only with --ca. */
  caRotation?: CaRotationReport;
  journal?: string;
  undone?: UndoResult;
  recovered?: string[];
  changed: boolean;
  exitCode: number;
  error?: ReportedError;
  nextSteps: string[];
}

export const rotateSteps: [StepReport['id'], string][] = [
  ['preflight', 'Connect and learn'],
  ['certificates', 'The certificate in force, and the new pair'],
  ['install-files', 'Write the new certificate and key under new names'],
  ['swap', 'Point the server at the new pair, reload, and prove it serves it'],
  ['report', 'Report'],
];

/** rotate --ca's steps (both phases have the same shape). */
export const caRotateSteps: [StepReport['id'], string][] = [
  ['preflight', 'Connect and learn'],
  ['certificates', 'The CA in force, the rotation in progress, and the plan'],
  ['install-files', 'Write the new files under new names'],
  ['swap', 'Point the server at them, reload, and prove which CA files verify'],
  ['publish', "Publish the client CA file (and, at --finish, pgssl's CA)"],
  ['report', 'Report'],
];

export function emptyRotateReport(dryRun: boolean, check: boolean, ca = false): RotateReport {
  return { ...plannedRunReport('rotate', dryRun, ca ? caRotateSteps : rotateSteps), check, files: [], settings: [] };
}
