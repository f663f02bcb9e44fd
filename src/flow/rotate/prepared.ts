/** What both kinds of rotation hand rotate's flow once planned, and how a certificate swap is shown. */
import type { Step } from '../runner.js';
import type { RotatePlan } from './plan.js';

/** What a rotation runs once it is confirmed: its steps, the files it writes (checked first), the questions the wizard asks, and what the report says after. */
export interface PreparedRotation {
  steps: Step[];
  files: { path: string; content: string }[];
  questions: string[];
  nextSteps(journal: string | undefined): string[];
}

export function showRotatePlan(view: { detail(text: string): void; warn(text: string): void }, plan: RotatePlan): void {
  view.detail(`use ${plan.description}`);
  view.detail(`names: ${plan.names.join(', ')}`);
  view.detail('Plan:');
  for (const file of plan.files) view.detail(`  write ${file.path} (mode ${file.mode.toString(8).padStart(4, '0')})`);
  for (const setting of plan.settings) view.detail(`  ${setting.sql};   -- now ${setting.before ?? '(not set)'}`);
  view.detail('  SELECT pg_reload_conf();   -- one reload for them all');
  view.detail(`  then a fresh verify-full handshake against ${plan.trustFile ?? 'the CA'} must serve the new certificate`);
  for (const warning of plan.warnings) view.warn(warning);
}
