/**
 * The one --json writer, for every command and every outcome: exactly one
 * document on stdout. Each document starts with the same top level
 * (schemas/common.schema.json) and keeps the command's own fields after it
 * (schemas/<command>.schema.json):
 *
 *   pgssl, schemaVersion, command, ok, changed, exitCode, error, findings, steps, diffs
 *
 * A failure carries the run's own report when it got that far; one before the
 * command began (a bad flag, an unreadable file, a server that is down) gets
 * the top level alone, from the CLI's top-level catch (printJsonFailureOnce).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, PgsslError, UsageError, reportedError, type ReportedError } from '../errors.js';
import type { StepId, StepReport } from '../flow/report.js';

/**
 * Bumped only when a field is removed, renamed or changes type; new fields
 * keep it (README, "--json"). The schemas in schemas/ describe this version.
 */
export const schemaVersion = 1;

/** A file the run changed (or, with --dry-run, would change), as a unified diff. */
export interface FileDiff {
  path: string;
  diff: string;
}

/** What the top level says beside the command's own fields. */
export interface CommonFields {
  exitCode: number;
  /** True only when the run left something changed (a server, a file). */
  changed?: boolean;
  error?: ReportedError | null;
  findings?: readonly object[];
  steps?: readonly StepReport[];
  diffs?: readonly FileDiff[];
}

const commonKeys = ['pgssl', 'schemaVersion', 'command', 'ok', 'changed', 'exitCode', 'error', 'findings', 'steps', 'diffs'];

let printed = false;

/**
 * The document for `command` as typed ("cert inspect"): the common top level,
 * then the command's own fields. `body.pgssl` (the old `{ command,
 * reportVersion }`) gives way to the version; see README, "--json".
 */
export function jsonDocument(command: string, body: object, common: CommonFields): Record<string, unknown> {
  const own = Object.fromEntries(Object.entries(body).filter(([key]) => !commonKeys.includes(key)));
  const error = common.error ? { id: common.error.id, message: common.error.message, fix: common.error.fix ?? null } : null;
  return {
    pgssl: pgsslVersion(),
    schemaVersion,
    command,
    ok: common.exitCode === ExitCode.ok,
    changed: common.changed ?? false,
    exitCode: common.exitCode,
    error,
    findings: common.findings ?? [],
    steps: common.steps ?? [],
    diffs: common.diffs ?? [],
    ...own,
  };
}

/** Writes the one document of this run to stdout. */
export function printJson(command: string, body: object, common: CommonFields): void {
  printed = true;
  process.stdout.write(JSON.stringify(jsonDocument(command, body, common), null, 2) + '\n');
}

/** The reports of the commands that change a server through the step runner (enable, disable, rotate). */
export interface RunReport {
  dryRun: boolean;
  steps: StepReport[];
  changed: boolean;
  exitCode: number;
  error?: ReportedError;
  hba?: { diff: string };
  compliance?: { findings: object[] };
}

/** The step that writes pg_hba.conf, per command: its diff is in `diffs` once that step is done. */
const hbaStep: Record<string, StepId> = { enable: 'enforce', disable: 'loosen' };

export function printJsonReport(command: 'enable' | 'disable' | 'rotate', report: RunReport): void {
  const hbaWritten = report.steps.some((s) => s.id === hbaStep[command] && s.status === 'done');
  const diffs = report.hba && (report.dryRun || (report.changed && hbaWritten)) ? diffsByFile(report.hba.diff) : [];
  printJson(command, report, { exitCode: report.exitCode, changed: report.changed, error: report.error, findings: report.compliance?.findings, steps: report.steps, diffs });
}

/** A run report's failure: the report the run attached to the error when it got that far, else `empty()` with the error. */
export function printJsonFailure(command: 'enable' | 'disable' | 'rotate', error: unknown, empty: () => RunReport): void {
  const attached = (error as { report?: RunReport }).report;
  printJsonReport(command, attached ?? { ...empty(), exitCode: exitCodeOf(error), error: reportedError(error) });
}

/** A command outside the step runner (confirm, cert request, ca sign): its failure, with what it can say of its files. */
export function printJsonFailureOf(command: string, error: unknown, body: object = {}): void {
  printJson(command, body, { exitCode: exitCodeOf(error), error: reportedError(error) });
}

/**
 * The CLI's top-level catch, with --json: the document for a failure no
 * command printed one for (a bad flag, a UsageError raised before the command
 * began, a server that is down), so that --json always gives one document.
 */
export function printJsonFailureOnce(command: string, error: unknown): void {
  if (printed) return;
  printJson(command, {}, { exitCode: exitCodeOf(error), error: reportedError(error) });
}

/** A usage error commander found (an unknown flag, or one optionRules refused): `message` as commander has it. */
export function printJsonUsageFailure(command: string, message: string): void {
  const help = command === 'pgssl' ? 'pgssl --help' : `pgssl ${command} --help`;
  // commander's "(outputHelp)": the help went to stderr because no (complete) command was named.
  const said = message === '(outputHelp)' ? 'no command given (or only a group, such as pgssl hba): the usage is on stderr' : message.replace(/^error: /, '');
  printJsonFailureOnce(command, new UsageError(said, { hint: `${help} lists what it accepts.` }));
}

export function exitCodeOf(error: unknown): number {
  return error instanceof PgsslError ? error.exitCode : ExitCode.operational;
}

/**
 * One entry per file of a multi-file unified diff (pg_hba.conf and its
 * include files, as src/hba/diff.ts writes them: `--- path`, `+++ path`,
 * then hunks). A file header is a `---`/`+++` pair naming the same path
 * right before a hunk: a changed pg_hba.conf line cannot look like that
 * (it would be two lines, "-- path" removed and "++ path" added, which no
 * valid pg_hba.conf holds).
 */
export function diffsByFile(diff: string): FileDiff[] {
  const header = /^--- (.+)\n\+\+\+ \1\n(?=@@ )/gm;
  const starts = [...diff.matchAll(header)];
  return starts.map((match, i) => ({ path: match[1], diff: diff.slice(match.index, i + 1 < starts.length ? starts[i + 1].index : diff.length) }));
}

let version: string | undefined;

/**
 * pgssl's version, from its package.json: the nearest one named pgssl above
 * this module (dist/src/commands/ when tests import it, dist/bundle/ in the CLI).
 */
export function pgsslVersion(): string {
  if (version) return version;
  // The single executable has no package.json: its build writes the version in (scripts/build-sea.mjs).
  const bundled = (globalThis as { [key: symbol]: { version?: string } | undefined })[Symbol.for('pgssl.bundled')];
  if (bundled?.version) return (version = bundled.version);
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'pgssl' && manifest.version) return (version = manifest.version);
    }
    if (dirname(dir) === dir) throw new Error(`pgssl cannot find its own package.json above ${fileURLToPath(import.meta.url)}: the installation is incomplete; reinstall pgssl`);
  }
}
