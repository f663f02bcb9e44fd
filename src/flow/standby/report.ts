/** What `pgssl enable` did on a standby, as data: rendered as text or returned as --json. */
import type { PrimaryConninfoView } from '../../replication/primaryConninfo.js';
import type { WalReceiverView } from '../../replication/standby.js';
import type { Walsender } from '../../replication/walsenders.js';
import { plannedRunReport, type ReportedError, type StepReport } from '../report.js';
import type { UndoResult } from '../undo.js';

export interface StandbyReport {
  pgssl: { command: 'enable'; reportVersion: 1 };
  /** The standby plan ran (pg_is_in_recovery()), not enable's primary plan. */
  role: 'standby';
  dryRun: boolean;
  server?: { version: string; dataDirectory: string; port: number; systemIdentifier: string };
  steps: StepReport[];
  /** How primary_conninfo connects, before and (planned or done) after; passwords never appear. */
  primaryConninfo: { before?: PrimaryConninfoView; after?: PrimaryConninfoView; sql?: string };
  /** The CA the standby verifies its primary with: where it came from and where it is installed. */
  ca?: { source: 'ca-file' | 'state-folder'; from: string; installedAs: string; action: 'created' | 'replaced' | 'unchanged' | 'planned' };
  verification: {
    /** The verify-full handshake with the primary, made before any change. */
    primaryHandshake?: { address: string; verifiedName: string; protocol: string };
    walReceiver?: WalReceiverView;
    /** On the primary (--primary): this standby's walsender and its TLS state. */
    primaryWalsender?: Walsender;
    primaryWalsenderSkipped?: string;
  };
  journal?: string;
  undone?: UndoResult;
  recovered?: string[];
  changed: boolean;
  exitCode: number;
  error?: ReportedError;
  nextSteps: string[];
}

export const standbyStepTitles: [StepReport['id'], string][] = [
  ['preflight', 'Connect and learn (standby)'],
  ['standby-ca', "Install the primary's CA"],
  ['standby-conninfo', 'primary_conninfo with sslmode=verify-full, reload, walreceiver streaming again'],
  ['standby-primary', 'On the primary: the walsender is on TLS'],
  ['report', 'Report'],
];

export function emptyStandbyReport(dryRun: boolean): StandbyReport {
  return { ...plannedRunReport('enable', dryRun, standbyStepTitles), role: 'standby', primaryConninfo: {} };
}
