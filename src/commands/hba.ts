/**
 * `pgssl hba check|rewrite|explain`: the pg_hba.conf engine for config repos
 * and templates, no server needed (explain can also ask the server for its
 * hba_file and the user's roles). The rewrite is the same code enable applies.
 */
import { join, resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { mkdirOwned } from '../files/owner.js';
import { ensureStateDir, stateDirPath } from '../files/stateDir.js';
import { backupOnlyWriter } from '../flow/changes.js';
import { writeHbaFiles } from '../flow/hbaFiles.js';
import { describeErrors, describeRule } from '../hba/describe.js';
import { unifiedDiff } from '../hba/diff.js';
import { evaluateHba, type ConnectionAttempt } from '../hba/evaluate.js';
import { diskReader, loadHba, overlayReader, type LoadedHba } from '../hba/load.js';
import { planRewrite, type RewritePlan } from '../hba/rewrite.js';
import { printJson } from './jsonReport.js';
import { rewriteOptions, type HbaRewriteFlags } from './rewriteFlags.js';
import { newestMajor, supportedMajors } from '../hba/syntax.js';
import { colourDiff } from '../ui/diffColour.js';
import { colourWanted, makeStyle, type Style } from '../ui/style.js';

export interface HbaCommonOptions {
  pgMajor?: string;
  json?: boolean;
  color?: boolean;
}

export function parseMajor(text: string | undefined): number {
  if (text === undefined) return newestMajor;
  const major = Number(text);
  if (!supportedMajors.includes(major)) throw new UsageError(`--pg-major ${text}: expected one of ${supportedMajors.join(', ')}`);
  return major;
}

/** Loads the file; an invalid one is bad input (exit 2) naming every problem. */
export function loadValidHba(file: string, major: number): LoadedHba {
  const loaded = loadHba(resolve(file), major);
  if (loaded.errors.length > 0) {
    throw new UsageError(
      `${file} is not a valid pg_hba.conf for PostgreSQL ${major}; nothing was changed:\n${describeErrors(loaded.errors)}`,
      { hint: major === newestMajor ? 'If the server is older, give its major with --pg-major N.' : undefined },
    );
  }
  return loaded;
}

function style(options: HbaCommonOptions): Style {
  return makeStyle(colourWanted(options.color, process.stdout));
}

export async function hbaCheckCommand(file: string, options: HbaCommonOptions & HbaRewriteFlags): Promise<number> {
  const major = parseMajor(options.pgMajor);
  const loaded = loadValidHba(file, major);
  const plan = planRewrite(loaded, { includeLoopback: options.includeLoopback });
  const stuck = notRewritable(plan);
  const compliant = plan.changeCount === 0 && plan.holes.length === 0 && stuck.length === 0;
  if (options.json) {
    printJson(
      'hba check',
      {
        file: resolve(file),
        pgMajor: major,
        files: loaded.files.map((f) => f.path),
        rules: loaded.ruleCount,
        plainRemote: plan.changes.map((c) => ({ file: c.file, line: c.line, text: c.before })),
        holes: plan.holes.map((r) => ({ file: r.file, line: r.line, type: r.type, text: describeRule(r) })),
        notRewritable: stuck.map((r) => ({ file: r.file, line: r.line, text: describeRule(r) })),
        compliant,
      },
      { exitCode: compliant ? ExitCode.ok : ExitCode.checkFailed },
    );
  } else {
    const s = style(options);
    const lines = [`${resolve(file)}: ${loaded.ruleCount} rules in ${loaded.files.length} file(s), read as PostgreSQL ${major} reads them`];
    if (plan.changes.length > 0) {
      lines.push(s.bad(`${plan.changes.length} rule(s) let remote clients in without TLS:`));
      for (const change of plan.changes) lines.push(`  ${describeRule(change.rule)}`);
    }
    if (plan.holes.length > 0) {
      lines.push(s.bad(`${plan.holes.length} hostnossl/hostnogssenc rule(s) admit remote clients without TLS (pgssl reports these, it does not change them):`));
      for (const hole of plan.holes) lines.push(`  ${describeRule(hole)}`);
    }
    if (stuck.length > 0) {
      lines.push(s.bad(`${stuck.length} rule(s) let remote clients in without TLS, and pgssl cannot change them: ${notRewritableWhy}`));
      for (const rule of stuck) lines.push(`  ${describeRule(rule)}`);
    }
    if (compliant) lines.push(s.ok('Every rule that can match a remote client requires TLS.'));
    else if (plan.changes.length > 0) lines.push(s.dim(`fix: pgssl hba rewrite ${file} --diff  (then --write)`));
    process.stdout.write(lines.join('\n') + '\n');
  }
  return compliant ? ExitCode.ok : ExitCode.checkFailed;
}

export interface HbaRewriteCommandOptions extends HbaCommonOptions, HbaRewriteFlags {
  diff?: boolean;
  write?: boolean;
}

export async function hbaRewriteCommand(file: string, options: HbaRewriteCommandOptions): Promise<number> {
  const major = parseMajor(options.pgMajor);
  const loaded = loadValidHba(file, major);
  const plan = planRewrite(loaded, rewriteOptions(options));
  const backups = options.write ? writePlan(plan) : [];
  if (options.json) {
    // diffs: what --write changed, or (without it) would change.
    const diffs = plan.files.map((f) => ({ path: f.path, diff: unifiedDiff(f.path, f.before, f.after) }));
    printJson('hba rewrite', rewriteReport(plan, backups, Boolean(options.write)), { exitCode: ExitCode.ok, changed: Boolean(options.write) && plan.files.length > 0, diffs });
  } else if (options.diff) {
    const s = style(options);
    for (const changed of plan.files) process.stdout.write(colourDiff(unifiedDiff(changed.path, changed.before, changed.after), s));
  } else if (!options.write) {
    const main = loaded.files[0];
    const changedMain = plan.files.find((f) => f.path === main.path);
    process.stdout.write(changedMain ? changedMain.afterBytes : main.bytes);
    const others = plan.files.filter((f) => f.path !== main.path);
    if (others.length > 0) process.stderr.write(`pgssl: included files change too (${others.map((f) => f.path).join(', ')}); use --diff to see them or --write to apply.\n`);
  }
  const stuck = notRewritable(plan);
  const summary =
    plan.changeCount > 0 ? `${plan.changeCount} rule(s) ${options.write ? 'changed' : 'to change'} to hostssl` : stuck.length > 0 ? 'nothing pgssl can change' : 'nothing to change: no remote host rule left';
  process.stderr.write(`pgssl: ${summary}${backups.length ? `; backups: ${backups.map((b) => b.backup).join(', ')}` : ''}\n`);
  if (plan.holes.length > 0) process.stderr.write(`pgssl: ${plan.holes.length} hostnossl/hostnogssenc hole(s) left as written: ${plan.holes.map((h) => `${h.file}:${h.line}`).join(', ')}\n`);
  if (stuck.length > 0) process.stderr.write(`pgssl: ${stuck.length} remote host rule(s) left as written (${stuck.map((r) => `${r.file}:${r.line}`).join(', ')}): ${notRewritableWhy}\n`);
  return ExitCode.ok;
}

/** Remote host rules the plan must leave as written: their keyword is not in the file (an @file gives it). */
function notRewritable(plan: RewritePlan) {
  return plan.kept.filter((k) => k.reason === 'keyword not rewritable in place').map((k) => k.rule);
}

const notRewritableWhy = 'their connection type is read from an @file, which other fields may share; write the keyword hostssl in the rule itself by hand';

/** Through the one pg_hba.conf writer; backups go to pgssl's state folder, never beside the configuration. */
function writePlan(plan: RewritePlan): { original: string; backup: string }[] {
  const folder = join(stateDirPath(), 'backups', `${new Date().toISOString().replace(/[-:]/g, '')}-hba-rewrite`);
  const writer = backupOnlyWriter(() => {
    ensureStateDir();
    return mkdirOwned(folder, undefined);
  });
  return writeHbaFiles(plan.files, writer).flatMap((w) => (w.backup ? [{ original: w.path, backup: w.backup }] : []));
}

export function rewriteReport(plan: RewritePlan, backups: { original: string; backup: string }[], written: boolean) {
  return {
    written,
    changes: plan.changes.map((c) => ({ file: c.file, line: c.line, before: c.before, after: c.after })),
    kept: plan.kept.map((k) => ({ file: k.rule.file, line: k.rule.line, type: k.rule.type, reason: k.reason })),
    holes: plan.holes.map((r) => ({ file: r.file, line: r.line, type: r.type })),
    backups,
  };
}


export interface HbaExplainOptions extends HbaCommonOptions, Pick<HbaRewriteFlags, 'includeLoopback' | 'skipReplication'> {
  file: string;
  user: string;
  db: string;
  addr?: string;
  ssl?: boolean;
  memberOf?: string[];
  replication?: boolean;
  hostname?: string;
}

export async function hbaExplainCommand(options: HbaExplainOptions): Promise<number> {
  const major = parseMajor(options.pgMajor);
  const loaded = loadValidHba(options.file, major);
  const plan = planRewrite(loaded, rewriteOptions(options));
  const rewritten = loadHba(resolve(options.file), major, overlayReader(diskReader, plan.files));
  const attempt: ConnectionAttempt = {
    local: options.addr === undefined,
    ssl: Boolean(options.ssl),
    database: options.db,
    user: options.user,
    memberOf: options.memberOf,
    address: options.addr,
    hostname: options.hostname,
    physicalReplication: options.replication,
  };
  const flags = { regularExpressions: major >= 16 };
  const before = evaluateHba(loaded.rules, attempt, flags);
  const after = evaluateHba(rewritten.rules, attempt, flags);
  const describe = (e: typeof before) => (e.rule ? `${e.verdict === 'allow' ? 'allowed' : 'rejected'} by ${describeRule(e.rule)} (${e.rule.method})` : 'rejected: no rule matches');
  if (options.json) {
    const view = (e: typeof before) => ({ verdict: e.verdict, rule: e.rule ? { file: e.rule.file, line: e.rule.line, type: e.rule.type, method: e.rule.method } : null, uncertain: e.uncertain.map((r) => `${r.file}:${r.line}`) });
    printJson('hba explain', { attempt, before: view(before), afterRewrite: view(after) }, { exitCode: ExitCode.ok });
  } else {
    const who = `${options.user}@${options.db} ${attempt.local ? 'over the local socket' : `from ${options.addr}`}${attempt.local ? '' : options.ssl ? ' with TLS' : ' without TLS'}`;
    const lines = [`${who}:`, `  now:               ${describe(before)}`, `  after the rewrite: ${describe(after)}`];
    for (const rule of new Set([...before.uncertain, ...after.uncertain])) lines.push(`  note: ${describeRule(rule)} was skipped: it names a host name or samenet, which depends on DNS or the server's interfaces (give --hostname)`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return ExitCode.ok;
}
