/**
 * `pgssl disable`'s plan, decided before anything changes (the blog post's
 * warning made a command): loosen pg_hba.conf first — the rules pgssl
 * converted, taken from enable's journals, or every remote hostssl rule with
 * --all-rules — then, unless --keep-ssl, ssl = off with pgssl's TLS settings
 * undone. Turning TLS off is refused here when a rule that stays hostssl is
 * the only way in for the admin's connection or a live session.
 */
import { existsSync, readFileSync } from 'node:fs';
import { OperationalError, UsageError } from '../../errors.js';
import { unifiedDiffOf, undoOwnEdits } from '../../files/lineMerge.js';
import { describeRule } from '../../hba/describe.js';
import { evaluateHba, type ConnectionAttempt } from '../../hba/evaluate.js';
import { diskReader, loadHba, overlayReader } from '../../hba/load.js';
import { changedLines, planLoosenAll, type LoosenPlan, type LoosenedFile } from '../../hba/loosen.js';
import { isSocketHost, type ConnectionTarget } from '../../server/connectionTarget.js';
import type { Journal } from '../journal.js';
import type { Preflight } from '../preflight.js';
import { writtenCopyPath } from '../undo.js';

export interface SettingUndo {
  name: string;
  /** The postgresql.auto.conf value now (pgssl's), and what it becomes (null: RESET). */
  now: string;
  becomes: string | null;
}

export interface DisablePlan {
  hba: LoosenPlan;
  /** pg_hba.conf diff, for the preview and --json. */
  diff: string;
  /** Settings to undo (pgssl's), and whether ssl must then be set off explicitly (postgresql.conf says on). */
  settings: SettingUndo[];
  sslOffExplicitly: boolean;
  keepSsl: boolean;
  /** What clients lose, for the wizard and the report. */
  losses: string[];
  nothingToChange: boolean;
}

export interface DisableOptions {
  allRules: boolean;
  keepSsl: boolean;
  includeLoopback?: boolean;
}

const pgsslTlsSettings = ['ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'ssl_min_protocol_version', 'ssl_ciphers', 'ssl'];

export function planDisable(pre: Preflight, journals: Journal[], autoConf: Map<string, string>, sslOutsideAutoConf: string | undefined, target: ConnectionTarget, options: DisableOptions): DisablePlan {
  const hba = options.allRules ? planLoosenAll(pre.hba, { includeLoopback: options.includeLoopback }) : planLoosenFromRuns(pre, journals);
  const diff = hba.files.map((f) => unifiedDiffOf(f.path, f.beforeBytes.toString('utf8'), f.afterBytes.toString('utf8'))).join('');
  const settings = options.keepSsl ? [] : settingsToUndo(journals, autoConf);
  // After the undo, is ssl still on from postgresql.conf (or another file)? Then it must be set off in so many words.
  const sslAfterUndo = settings.some((s) => s.name === 'ssl') ? settings.find((s) => s.name === 'ssl')!.becomes ?? sslOutsideAutoConf : autoConf.get('ssl') ?? sslOutsideAutoConf;
  const sslOffExplicitly = !options.keepSsl && sslAfterUndo === 'on';
  const losses: string[] = [];
  if (!options.keepSsl && (settings.length > 0 || sslOffExplicitly || pre.facts.settings.ssl?.value === 'on')) {
    checkNoLockoutWithoutTls(pre, hba, target);
    losses.push('Every client loses encryption: TLS connections are refused from then on (clients with sslmode=prefer or allow fall back to plain; require, verify-ca and verify-full ones cannot connect until TLS is on again).');
  }
  if (hba.changes.length > 0) losses.push(`${hba.changes.length} pg_hba.conf rule(s) no longer require TLS: clients that match them may connect without encryption.`);
  return { hba, diff, settings, sslOffExplicitly, keepSsl: options.keepSsl, losses, nothingToChange: hba.files.length === 0 && settings.length === 0 && !sslOffExplicitly };
}

/**
 * The rules pgssl converted: for each applied enable run (newest first), the
 * pg_hba.conf it wrote with only pgssl's own lines taken back. A file that
 * holds the bytes from before that run needs nothing; one whose pgssl lines
 * were edited since cannot be loosened safely (--all-rules can).
 */
function planLoosenFromRuns(pre: Preflight, journals: Journal[]): LoosenPlan {
  const current = new Map<string, Buffer>();
  const original = new Map<string, Buffer>();
  for (const journal of [...journals].reverse()) {
    if (journal.data.command !== 'enable' || journal.data.status !== 'applied') continue;
    for (const entry of journal.data.entries) {
      if (entry.kind !== 'file' || entry.why !== 'pg_hba.conf rewrite' || !entry.backup) continue;
      const written = writtenCopyPath(entry)!;
      if (!existsSync(entry.backup) || !existsSync(written)) {
        throw new OperationalError(`the backup of ${entry.path} from ${journal.path} is gone, so pgssl cannot tell its own lines from the rest; nothing was changed. pgssl disable --all-rules loosens every remote hostssl rule instead.`);
      }
      if (!current.has(entry.target)) {
        const bytes = readFileSync(entry.target);
        current.set(entry.target, bytes);
        original.set(entry.target, bytes);
      }
      const now = current.get(entry.target)!;
      const before = readFileSync(entry.backup);
      if (now.equals(before)) continue;
      const merged = undoOwnEdits(readFileSync(written, 'utf8'), before.toString('utf8'), now.toString('utf8'));
      if (merged === undefined) {
        throw new UsageError(`${entry.path}: lines pgssl converted to hostssl were edited since (${journal.path}), so pgssl cannot take back only its own; nothing was changed. Use --all-rules to loosen every remote hostssl rule, or edit the file by hand.`);
      }
      current.set(entry.target, Buffer.from(merged, 'utf8'));
    }
  }
  const files: LoosenedFile[] = [];
  for (const [target, after] of current) {
    const before = original.get(target)!;
    if (!after.equals(before)) files.push({ path: pre.hba.files.find((f) => f.path === target)?.path ?? target, beforeBytes: before, afterBytes: after });
  }
  return { files, changes: files.flatMap((f) => changedLines(f.path, f.beforeBytes, f.afterBytes)), kept: [] };
}

/** pgssl's TLS settings that still hold what pgssl set: back to what they were before enable (null: RESET). */
function settingsToUndo(journals: Journal[], autoConf: Map<string, string>): SettingUndo[] {
  const undo = new Map<string, SettingUndo>();
  // Oldest first: the earliest run's "before" is the value from before pgssl.
  for (const journal of journals) {
    if (journal.data.command !== 'enable' || journal.data.status !== 'applied') continue;
    for (const entry of journal.data.entries) {
      if (entry.kind !== 'setting' || !pgsslTlsSettings.includes(entry.name)) continue;
      const now = autoConf.get(entry.name);
      if (now === undefined || now !== entry.after) continue;
      if (!undo.has(entry.name)) undo.set(entry.name, { name: entry.name, now, becomes: entry.before });
    }
  }
  // ssl last, as enable set it last: the files stay named until TLS is off.
  return [...undo.values()].filter((s) => s.becomes !== s.now).sort((a, b) => Number(a.name === 'ssl') - Number(b.name === 'ssl'));
}

/** With TLS off, hostssl rules match nobody: the admin and every live session must still get in through another rule. */
function checkNoLockoutWithoutTls(pre: Preflight, hba: LoosenPlan, target: ConnectionTarget): void {
  const overlay = hba.files.map((f) => ({ path: f.path, afterBytes: f.afterBytes }));
  const after = loadHba(pre.hbaFile, pre.facts.major, overlayReader(diskReader, overlay)).rules;
  const flags = { regularExpressions: pre.facts.major >= 16 };
  if (!isSocketHost(target.host) && ['require', 'verify-ca', 'verify-full'].includes(target.sslmode)) {
    throw new UsageError(`turning TLS off would lock out your own connection: it uses sslmode=${target.sslmode}, which fails once the server offers no TLS. Nothing was changed. Connect over the local socket (sudo -u postgres pgssl disable) or with sslmode=prefer, or keep TLS on with --keep-ssl.`);
  }
  const attempts: { who: string; attempt: ConnectionAttempt }[] = [];
  if (!isSocketHost(target.host) && pre.facts.ownClientAddr) {
    attempts.push({ who: 'your own connection', attempt: { local: false, ssl: false, database: target.database, user: pre.facts.currentUser, memberOf: pre.adminMemberOf, address: pre.facts.ownClientAddr } });
  }
  for (const session of pre.sessions.filter((s) => s.clientAddr)) {
    attempts.push({
      who: `pid ${session.pid} (${session.user ?? '?'}@${session.database ?? 'replication'} from ${session.clientAddr})`,
      attempt: { local: false, ssl: false, database: session.database ?? '', user: session.user ?? '', address: session.clientAddr!, physicalReplication: session.backendType === 'walsender' && !session.database },
    });
  }
  const locked: string[] = [];
  for (const { who, attempt } of attempts) {
    if (evaluateHba(after, attempt, flags).verdict === 'allow') continue;
    const now = evaluateHba(after, { ...attempt, ssl: true }, flags);
    locked.push(`${who}, which only ${now.rule ? describeRule(now.rule) : 'a hostssl rule'} lets in`);
  }
  if (locked.length > 0) {
    throw new UsageError(
      `turning TLS off would lock out ${locked.join('; ')}: hostssl rules match nobody once ssl = off. Nothing was changed. Keep TLS on with --keep-ssl (pg_hba.conf is still loosened), or give those clients a host rule first.`,
    );
  }
}
