/** What `pgssl enable` did, as data: rendered as text or returned as --json. */
import type { EnforcementProof } from '../server/enforcement.js';
import type { LiveSession } from '../server/sessions.js';
import type { TlsVerification } from '../server/verifyTls.js';
import type { Finding } from '../status/findings.js';
import type { SettingChange } from './tlsSettings.js';
import type { UndoResult } from './undo.js';
import type { ReplicaReport } from './enable/replicas.js';

/** Stable step ids: journals, --json and tests refer to them (enable's, then disable's, then rotate's; publish is rotate --ca's; then the standby plan's). */
export type StepId = 'preflight' | 'certificates' | 'install-files' | 'tls-on' | 'enforce' | 'sessions' | 'report' | 'loosen' | 'tls-off' | 'swap' | 'publish' | 'standby-ca' | 'standby-conninfo' | 'standby-primary';
export type StepStatus = 'planned' | 'done' | 'already-done' | 'skipped' | 'failed' | 'undone';

export interface StepReport {
  id: StepId;
  title: string;
  status: StepStatus;
  details: string[];
}

export const stepTitles: Record<Exclude<StepId, 'loosen' | 'tls-off' | 'swap' | 'publish' | 'standby-ca' | 'standby-conninfo' | 'standby-primary'>, string> = {
  preflight: 'Connect and learn',
  certificates: 'Certificates',
  'install-files': 'Install the certificate files',
  'tls-on': 'Turn TLS on and prove it works',
  enforce: 'Require TLS in pg_hba.conf and prove it',
  sessions: 'Live sessions without TLS',
  report: 'Report',
};

export interface EnableReport {
  pgssl: { command: 'enable'; reportVersion: 1 };
  dryRun: boolean;
  server: { version: string; dataDirectory: string; hbaFile: string; port: number; systemIdentifier: string };
  steps: StepReport[];
  certificate?: { description: string; names: string[]; notAfter: string; caFile?: string; action: string };
  files: { path: string; role: string; action: 'created' | 'replaced' | 'unchanged' | 'planned'; backup?: string; mode: string }[];
  settings: SettingChange[];
  hba: { changes: { file: string; line: number; before: string; after: string }[]; kept: { file: string; line: number; reason: string }[]; holes: { file: string; line: number }[]; diff: string; backups: string[] };
  verification: { tls?: TlsVerification; enforcement?: EnforcementProof };
  sessions: { withoutTls: LiveSession[]; terminated: number[]; walsendersBackOnTls: { applicationName: string | null; pid: number }[]; walsendersNotBack: string[] };
  journal?: string;
  undone?: UndoResult;
  /** Clients seen without TLS that the planned pg_hba.conf would refuse (pgssl readiness on the plan). */
  readiness?: { refused: number; cannotTell: number; clients: string[]; unknowns: string[] };
  /** Unfinished earlier runs undone before this one (their journals). */
  recovered?: string[];
  /** Walsenders before and after, the replication rules converted, standbys readiness says would be refused. */
  replicas?: ReplicaReport;
  connect?: string;
  /** enable --confirm-within: the run stays pending until confirmed, and is reverted at the deadline otherwise. */
  confirm?: { state: 'pending' | 'confirmed' | 'reverted' | 'revert-failed'; deadline: string; seconds: number; watchdog?: { kind: 'systemd'; unit: string } | { kind: 'process'; pid: number }; how: string };
  nextSteps: string[];
  compliance?: { result: string; findings: Finding[] };
  /** True when the server was left changed (false after a dry run, a no-op, or a run that was undone). */
  changed: boolean;
  exitCode: number;
  error?: ReportedError;
}

/** The error part of every --json document: a stable id, the message, and the fix when there is one. */
export interface ReportedError {
  id: 'BAD_INPUT' | 'OPERATIONAL' | 'VERIFICATION_FAILED' | 'CANCELLED' | 'UNEXPECTED';
  message: string;
  fix?: string;
}

/**
 * What every plan run by the step runner reports before it starts (enable,
 * its standby plan, disable, rotate): each step planned, nothing verified,
 * nothing changed. Each report adds its own parts; a failure before the run
 * (--json) prints this with the error.
 */
export function plannedRunReport<Command extends string>(command: Command, dryRun: boolean, steps: readonly (readonly [StepId, string])[]) {
  return {
    pgssl: { command, reportVersion: 1 as const },
    dryRun,
    steps: steps.map(([id, title]): StepReport => ({ id, title, status: 'planned', details: [] })),
    verification: {},
    changed: false,
    exitCode: 0,
    nextSteps: [] as string[],
  };
}

export function emptyReport(dryRun: boolean): EnableReport {
  return {
    ...plannedRunReport('enable', dryRun, Object.entries(stepTitles) as [keyof typeof stepTitles, string][]),
    server: { version: '', dataDirectory: '', hbaFile: '', port: 0, systemIdentifier: '' },
    files: [],
    settings: [],
    hba: { changes: [], kept: [], holes: [], diff: '', backups: [] },
    sessions: { withoutTls: [], terminated: [], walsendersBackOnTls: [], walsendersNotBack: [] },
  };
}
