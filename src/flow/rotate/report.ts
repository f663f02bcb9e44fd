/** What `pgssl rotate` did, as data: rendered as text or returned as --json. */
import type { TlsVerification } from '../../server/verifyTls.js';
import type { ReportedError, StepReport } from '../report.js';
import type { SettingChange } from '../tlsSettings.js';
import type { UndoResult } from '../undo.js';
import type { Expiry } from './decide.js';

export interface CertificateFacts {
  fingerprint: string;
  notAfter: string;
  names: string[];
  certFile?: string;
  keyFile?: string;
}

export interface RotateReport {
  pgssl: { command: 'rotate'; reportVersion: 1 };
  dryRun: boolean;
  check: boolean;
  server?: { version: string; dataDirectory: string; port: number; systemIdentifier: string };
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

export function emptyRotateReport(dryRun: boolean, check: boolean): RotateReport {
  return {
    pgssl: { command: 'rotate', reportVersion: 1 },
    dryRun,
    check,
    steps: rotateSteps.map(([id, title]) => ({ id, title, status: 'planned', details: [] })),
    files: [],
    settings: [],
    verification: {},
    changed: false,
    exitCode: 0,
    nextSteps: [],
  };
}
