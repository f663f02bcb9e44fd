/** `pgssl readiness`: options → assessReadiness → text or JSON, and the exit code (0 ready, 3 someone would be refused). */
import { reportedError } from '../errors.js';
import { assessReadiness } from '../readiness/assess.js';
import { failedReadinessReport, verdictText, type ReadinessReport, clientText } from '../readiness/report.js';
import type { JudgedClient } from '../readiness/verdicts.js';
import { withClient } from '../server/connect.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { colourWanted, makeStyle, type Style } from '../ui/style.js';
import { exitCodeOf, printJson } from './jsonReport.js';
import { rewriteOptions, type HbaRewriteFlags } from './rewriteFlags.js';

export { parseDuration } from '../readiness/duration.js';

export interface ReadinessFlags extends ConnectionFlags, HbaRewriteFlags {
  json?: boolean;
  color?: boolean;
  /** Seconds to sample live sessions (0: once). */
  forSeconds: number;
  log?: string[];
}

export async function readinessCommand(flags: ReadinessFlags): Promise<number> {
  let report: ReadinessReport;
  try {
    const target = resolveConnectionTarget(flags);
    report = await withClient(target, (client) => assessReadiness(client, target, { rewrite: rewriteOptions(flags), forSeconds: flags.forSeconds, logFiles: flags.log }));
  } catch (error) {
    if (flags.json) {
      const failed = failedReadinessReport(exitCodeOf(error), reportedError(error));
      printJson('readiness', failed, { exitCode: failed.exitCode, error: failed.error });
    }
    throw error;
  }
  if (flags.json) printJson('readiness', report, { exitCode: report.exitCode });
  else process.stdout.write(renderReadiness(report, makeStyle(colourWanted(flags.color, process.stdout))));
  return report.exitCode;
}

export function renderReadiness(report: ReadinessReport, s: Style): string {
  const lines: string[] = [];
  const { sessions, log } = report.sources;
  lines.push(s.bold('Readiness: who the planned pg_hba.conf would refuse without TLS'));
  lines.push(`  Planned rewrite: ${report.plannedRewrite.length ? report.plannedRewrite.map((r) => `${r.file}:${r.line}`).join(', ') + ' → hostssl' : 'no rule changes'}`);
  lines.push(`  Live sessions: ${sessions.seen} (${sessions.samples === 'one' ? 'one sample' : `sampled over ${sessions.samples}`})`);
  lines.push(`  Server log: ${log.files.length ? `${log.connectionsSeen} connection(s) in ${log.files.map((f) => `${f.path} (${f.format})`).join(', ')}${log.from ? `, ${log.from} to ${log.to}` : ''}` : 'not read'}`);
  lines.push('');
  if (report.clients.length === 0) lines.push('  No client was seen without TLS.');
  for (const client of report.clients) lines.push(`  ${mark(client, s)} ${who(client)}`, `      ${verdictText(client)}`, `      seen ${client.count}× (${client.sources.join(', ')})${client.firstSeen ? `, first ${client.firstSeen}, last ${client.lastSeen}` : ''}`);
  if (report.unknowns.length) {
    lines.push('', s.bold('What this cannot know'));
    for (const u of report.unknowns) {
      lines.push(`  - ${u.message}${u.fix ? ` Fix: ${u.fix}` : ''}`);
      for (const sql of u.sql ?? []) lines.push(`      ${sql}`);
    }
  }
  if (report.cannotTell > 0) lines.push('', s.warn(`${report.cannotTell} client(s) could not be judged (see "cannot tell" above); they do not change the exit code.`));
  lines.push('', report.refused > 0 ? s.bad(`${report.refused} client(s) seen without TLS would be refused once the plan is in force (exit 3).`) : s.ok('Nobody seen without TLS would be refused by the planned pg_hba.conf.'));
  return lines.join('\n') + '\n';
}

const who = clientText;

function mark(c: JudgedClient, s: Style): string {
  return c.judgement.verdict === 'refused' ? s.bad('✘') : c.judgement.verdict === 'allowed' ? s.ok('✔') : s.warn('?');
}
