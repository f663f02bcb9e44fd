/**
 * The readiness report (the --json document): each plain client with its
 * verdict under the planned pg_hba.conf, what pgssl cannot know, and the exit
 * code (0 nobody seen would be refused, 3 someone would). Pure.
 */
import { ExitCode, type reportedError } from '../errors.js';
import type { JudgedClient } from './verdicts.js';

export interface Unknown {
  /** Stable: LOG_CONNECTIONS_OFF, NO_LOG_FILE, LOG_UNREADABLE, … */
  id: string;
  message: string;
  /** What would close the gap; readiness never does it. */
  fix?: string;
  /** The statements that turn log_connections on, when that is the gap. */
  sql?: string[];
}

export interface ReadinessSources {
  sessions: { samples: 'one' | `${number} s`; seen: number };
  log: { files: { path: string; format: string; truncated: boolean }[]; connectionsSeen: number; from?: string; to?: string };
}

export interface ReadinessReport {
  pgssl: { command: 'readiness'; reportVersion: 1 };
  command: 'readiness';
  ok: boolean;
  exitCode: number;
  server?: { major: number; hbaFile: string };
  /** The rules the planned rewrite turns into hostssl (file:line). */
  plannedRewrite: { file: string; line: number }[];
  sources: ReadinessSources;
  clients: JudgedClient[];
  refused: number;
  /** Clients whose verdict depends on host names, samenet or an address the log did not give: not counted as refused. */
  cannotTell: number;
  unknowns: Unknown[];
  error?: ReturnType<typeof reportedError>;
}

export function buildReadinessReport(parts: Omit<ReadinessReport, 'pgssl' | 'command' | 'ok' | 'exitCode' | 'refused' | 'cannotTell'>): ReadinessReport {
  const refused = parts.clients.filter((c) => c.judgement.verdict === 'refused').length;
  const cannotTell = parts.clients.filter((c) => c.judgement.verdict === 'unknown').length;
  const exitCode = refused > 0 ? ExitCode.checkFailed : ExitCode.ok;
  return { pgssl: { command: 'readiness', reportVersion: 1 }, command: 'readiness', ok: exitCode === ExitCode.ok, exitCode, refused, cannotTell, ...parts };
}

/** The one-document answer when readiness could not run at all. */
export function failedReadinessReport(exitCode: number, error: ReturnType<typeof reportedError>): ReadinessReport {
  return {
    pgssl: { command: 'readiness', reportVersion: 1 },
    command: 'readiness',
    ok: false,
    exitCode,
    plannedRewrite: [],
    sources: { sessions: { samples: 'one', seen: 0 }, log: { files: [], connectionsSeen: 0 } },
    clients: [],
    refused: 0,
    cannotTell: 0,
    unknowns: [],
    error,
  };
}

/** "would be refused by line 3", "still allowed by line 2", "unknown: …". */
export function verdictText(client: JudgedClient): string {
  const j = client.judgement;
  if (j.verdict === 'allowed') return `still allowed by ${j.rule.file}:${j.rule.line} (${j.rule.text})`;
  if (j.verdict === 'refused') return j.rule ? `would be refused by ${j.rule.file}:${j.rule.line} (${j.rule.text})` : 'would be refused: no rule would match it without TLS';
  return `cannot tell: ${j.reason}`;
}

/** "app → database sales from 10.0.0.7 (application cron)": who the client is, in the DBA's words. */
export function clientText(c: JudgedClient): string {
  const what = c.replication ? (c.database ? `logical replication of ${c.database}` : 'physical replication') : `database ${c.database ?? '?'}`;
  return `${c.user} → ${what} from ${c.address ?? 'an unknown address'}${c.application ? ` (application ${c.application})` : ''}`;
}
