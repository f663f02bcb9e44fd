/**
 * `pgssl status --format prometheus`: the status report as node_exporter's
 * textfile collector reads it (the Prometheus text exposition format 0.0.4).
 * Pure: report (or none, when the audit could not run) in, text out.
 *
 * Every series carries the same two labels, `host` and `port`, taken from the
 * connection target (known even when the server cannot be reached), so that
 * a server keeps one identity across good and bad runs; node_exporter adds
 * the machine (`instance`). What varies with the server (data directory,
 * version) is in one info series, not on every series.
 */
import type { StatusReport } from './report.js';

export interface MetricsInput {
  /** The server as the connection target names it: a socket directory or a host name, and the port. */
  server: { host: string; port: number };
  /** When the audit ran (also when it could not). */
  checkedAt: Date;
  /** Undefined when the audit could not run at all (server down, login refused). */
  report?: StatusReport;
}

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

export function renderPrometheus(input: MetricsInput): string {
  const server: Labels = { host: input.server.host, port: String(input.server.port) };
  const { report } = input;
  // exit 0 or 3: a verdict was reached. exit 1 (no connection, or pg_hba.conf unreadable): no verdict.
  const verdict = report !== undefined && report.compliance !== 'unknown';
  const families: Family[] = [
    gauge('pgssl_status_success', 'Whether pgssl status reached a verdict (1), or could not connect or could not read what decides it (0; exit code 1).', server, verdict ? 1 : 0),
    gauge('pgssl_status_timestamp_seconds', 'When pgssl status ran, as Unix time.', server, Math.floor(input.checkedAt.getTime() / 1000)),
  ];
  if (report) families.push(...reportFamilies(report, server, verdict));
  return families.filter((f) => f.samples.length > 0).map(renderFamily).join('');
}

function reportFamilies(report: StatusReport, server: Labels, verdict: boolean): Family[] {
  const served = report.tls.servedCertificate;
  const findingCounts = new Map<string, { id: string; severity: string; count: number }>();
  for (const finding of report.findings) {
    const key = `${finding.id}\0${finding.severity}`;
    const entry = findingCounts.get(key) ?? { id: finding.id, severity: finding.severity, count: 0 };
    entry.count += 1;
    findingCounts.set(key, entry);
  }
  return [
    {
      name: 'pgssl_compliant',
      help: 'Whether TLS works and no remote client can connect without it (pgssl status exit 0): 1, or 0 (exit 3). Absent without a verdict.',
      samples: verdict ? [{ labels: server, value: report.compliance === 'compliant' ? 1 : 0 }] : [],
    },
    gauge('pgssl_tls_working', 'Whether a real TLS handshake with the server succeeded.', server, report.tls.accepted ? 1 : 0),
    {
      // A timestamp, not "seconds left": the textfile is read long after it was written, and
      // `pgssl_certificate_expiry_timestamp_seconds - time()` stays right (as with blackbox_exporter's probe_ssl_earliest_cert_expiry).
      name: 'pgssl_certificate_expiry_timestamp_seconds',
      help: "The served certificate's notAfter, as Unix time. Absent when no handshake succeeded.",
      samples: served ? [{ labels: server, value: Math.floor(Date.parse(served.notAfter) / 1000) }] : [],
    },
    {
      name: 'pgssl_findings',
      help: 'Findings of pgssl status by stable ID and severity (error, warning, info); an ID not listed was not found.',
      samples: [...findingCounts.values()].map(({ id, severity, count }) => ({ labels: { ...server, id, severity }, value: count })),
    },
    {
      name: 'pgssl_server_info',
      help: 'The server pgssl status audited: its data directory and version (always 1).',
      samples: [{ labels: { ...server, data_directory: report.server.settings.data_directory?.value ?? '', version: String(report.server.versionNum) }, value: 1 }],
    },
  ];
}

function gauge(name: string, help: string, labels: Labels, value: number): Family {
  return { name, help, samples: [{ labels, value }] };
}

function renderFamily(family: Family): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`];
  for (const sample of family.samples) lines.push(`${family.name}${renderLabels(sample.labels)} ${sample.value}`);
  return lines.join('\n') + '\n';
}

function renderLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/** The exposition format's label value escapes: backslash, double quote, line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes only backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
