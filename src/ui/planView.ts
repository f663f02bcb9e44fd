/** Shows the enable plan before anything changes: files, SQL, the pg_hba.conf diff, what stays, sessions. */
import type { PlannedTlsFile } from '../certs/install.js';
import type { EnableReport } from '../flow/report.js';
import { describeRule } from '../hba/describe.js';
import type { RewritePlan } from '../hba/rewrite.js';
import type { EnableView } from './enableView.js';

export function showPlan(view: EnableView, report: EnableReport, files: PlannedTlsFile[], plan: RewritePlan): void {
  view.detail('Plan:');
  for (const file of files) view.detail(`  write ${file.path} (mode ${file.mode.toString(8).padStart(4, '0')}) → ${file.setting} = '${file.settingValue}'`);
  for (const change of report.settings) view.detail(`  ${change.sql};   -- was ${change.before === undefined ? 'unset' : `'${change.before}'`}${change.reason ? `; ${change.reason}` : ''}`);
  if (files.length > 0 || report.settings.length > 0) view.detail('  SELECT pg_reload_conf();   -- then wait for a new backend to see it');
  if (plan.changes.length > 0) {
    view.detail(`  pg_hba.conf: ${plan.changes.length} rule(s) to hostssl:`);
    view.diff(report.hba.diff);
  }
  for (const kept of plan.kept.filter((k) => k.rule.type === 'host')) {
    if (kept.reason === 'keyword not rewritable in place') view.warn(`${describeRule(kept.rule)} stays host: its connection type is read from an @file, which other fields may share; write the keyword hostssl in the rule itself by hand`);
    else view.detail(`  keep ${describeRule(kept.rule)} — ${kept.reason}`);
  }
  for (const hole of plan.holes) view.warn(`${describeRule(hole)} admits remote clients without TLS; pgssl leaves it as written`);
  if (report.sessions.withoutTls.length > 0) view.detail(`  ${report.sessions.withoutTls.length} live session(s) without TLS will need to reconnect`);
  if (files.length === 0 && report.settings.length === 0 && plan.changes.length === 0) view.ok('nothing to change: TLS is already on and required');
}
