/** `pgssl status`: options → evidence → report → text or JSON, and the exit code. */
import { collectStatusEvidence } from '../status/collect.js';
import { renderStatus } from '../status/render.js';
import { buildStatusReport } from '../status/report.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { colourWanted, makeStyle } from '../ui/style.js';
import { printJson } from './jsonReport.js';

export interface StatusOptions extends ConnectionFlags {
  json?: boolean;
  color?: boolean;
  expiryWarnDays: number;
}

export async function statusCommand(options: StatusOptions): Promise<number> {
  const target = resolveConnectionTarget(options);
  const now = new Date();
  const evidence = await collectStatusEvidence(target, now);
  const report = buildStatusReport(evidence, { now, expiryWarnDays: options.expiryWarnDays });
  if (options.json) {
    printJson('status', report, { exitCode: report.exitCode, findings: report.findings });
  } else {
    process.stdout.write(renderStatus(report, makeStyle(colourWanted(options.color, process.stdout))));
  }
  return report.exitCode;
}
