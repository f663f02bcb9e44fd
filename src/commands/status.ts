/** `pgssl status`: options → evidence → report → text, JSON or Prometheus metrics, and the exit code. */
import { OperationalError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { collectStatusEvidence } from '../status/collect.js';
import { renderPrometheus } from '../status/prometheus.js';
import { renderStatus } from '../status/render.js';
import { buildStatusReport } from '../status/report.js';
import { resolveConnectionTarget, type ConnectionFlags } from '../server/connectionTarget.js';
import { colourWanted, makeStyle } from '../ui/style.js';
import { reportError } from '../ui/reportError.js';
import { jsonDocument, printJson } from './jsonReport.js';

export type StatusFormat = 'text' | 'json' | 'prometheus';

export interface StatusOptions extends ConnectionFlags {
  json?: boolean;
  color?: boolean;
  expiryWarnDays: number;
  /** --format; undefined: text, or json with --json. */
  format?: StatusFormat;
  /** --output: the file to replace atomically (mode 0644) instead of writing to stdout. */
  output?: string;
}

export async function statusCommand(options: StatusOptions): Promise<number> {
  const format = statusFormat(options);
  const target = resolveConnectionTarget(options);
  const now = new Date();
  if (format === 'prometheus') {
    // Metrics also when the audit cannot run: a collector must see `pgssl_status_success 0`, not an old file.
    let report;
    let failure: unknown;
    try {
      report = buildStatusReport(await collectStatusEvidence(target, now), { now, expiryWarnDays: options.expiryWarnDays });
    } catch (error) {
      failure = error;
    }
    emit(renderPrometheus({ server: { host: target.host, port: target.port }, checkedAt: now, report }), options.output);
    return failure === undefined ? report!.exitCode : reportError(failure);
  }
  const evidence = await collectStatusEvidence(target, now);
  const report = buildStatusReport(evidence, { now, expiryWarnDays: options.expiryWarnDays });
  if (format === 'json') {
    const common = { exitCode: report.exitCode, findings: report.findings };
    if (options.output) emit(JSON.stringify(jsonDocument('status', report, common), null, 2) + '\n', options.output);
    else printJson('status', report, common);
  } else emit(renderStatus(report, makeStyle(colourWanted(options.color && !options.output, process.stdout))), options.output);
  return report.exitCode;
}

/** --json is --format json; any other --format beside it is a contradiction (exit 2, before connecting). */
function statusFormat(options: StatusOptions): StatusFormat {
  if (options.json && options.format && options.format !== 'json') {
    throw new UsageError(`--json asks for --format json, but --format ${options.format} was given too`, { hint: 'Give one of them: --json, or --format text|json|prometheus.' });
  }
  return options.format ?? (options.json ? 'json' : 'text');
}

/** stdout, or FILE replaced atomically (a node_exporter textfile collector must never read half a file). */
function emit(text: string, output: string | undefined): void {
  if (output === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    // 0644: node_exporter runs as its own user and must read it.
    writeFileAtomic(output, text, { mode: 0o644 });
  } catch (error) {
    throw new OperationalError((error as Error).message, { cause: error, hint: `Check that the folder of ${output} exists and that this user may create files in it (for the systemd unit: ReadWritePaths= and the folder's owner or ACL).` });
  }
}
