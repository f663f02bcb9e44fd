/**
 * Server log files as records (time, pid, client host, user, database,
 * message), one reader per log_destination format. Pure: text in, records out.
 *
 * - stderr: each entry starts with log_line_prefix, then `SEVERITY:  message`;
 *   continuation lines start with a tab. The prefix is turned into a pattern
 *   (see prefixPattern) from the server's own setting.
 * - csvlog: fixed leading columns (log_time, user_name, database_name,
 *   process_id, connection_from, …, message is the 14th) in every major 12–18;
 *   quoted fields may span lines.
 * - jsonlog (15+): one object a line with timestamp, pid, remote_host, user,
 *   dbname, message.
 */

export type LogFormat = 'stderr' | 'csvlog' | 'jsonlog';

export interface LogRecord {
  time?: string;
  pid: number;
  /** Client host as the prefix or the structured fields give it ([local] for the socket). */
  host?: string;
  user?: string;
  database?: string;
  message: string;
}

// log_line_prefix escapes (runtime config docs, "What to Log"). Values that
// can hold blanks are lazy; the next literal text of the prefix ends them.
const escapes: Record<string, string> = {
  a: '(?<a>.*?)',
  u: '(?<u>.*?)',
  d: '(?<d>.*?)',
  r: '(?<r>.*?)',
  h: '(?<h>.*?)',
  b: '.*?',
  p: '(?<p>\\d+)',
  P: '\\d*',
  t: '(?<t>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(?: \\S+)?)',
  m: '(?<m>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d+(?: \\S+)?)',
  n: '(?<n>\\d+\\.\\d+)',
  i: '.*?',
  e: '[0-9A-Z]{5}',
  c: '[0-9a-f]+\\.[0-9a-f]+',
  l: '\\d+',
  s: '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(?: \\S+)?',
  v: '.*?',
  x: '\\d+',
  Q: '-?\\d+',
};

/**
 * A pattern for one stderr entry under `prefix`: named groups p (pid), m/t/n
 * (time), h or r (client), u, d, a, then `msg`. The part after %q is
 * optional (non-session processes stop there). Undefined when the prefix has
 * no %p: then entries cannot be joined by process and the log is no use.
 */
export function prefixPattern(prefix: string): RegExp | undefined {
  let source = '';
  let optionalFrom: number | undefined;
  const used = new Set<string>();
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i];
    if (ch !== '%') {
      source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    // Optional padding: %-10u, %10p.
    const padding = /^-?\d*/.exec(prefix.slice(i + 1))![0];
    i += padding.length + 1;
    const key = prefix[i];
    if (key === undefined) break;
    if (key === '%') source += '%';
    else if (key === 'q') optionalFrom ??= source.length;
    else {
      let part = escapes[key] ?? '';
      // A named group may appear once; repeats match the same kind of text unnamed.
      if (used.has(key)) part = part.replace(/\(\?<\w+>/g, '(?:');
      used.add(key);
      source += padding ? ` *${part} *` : part;
    }
  }
  if (!used.has('p')) return undefined;
  if (optionalFrom !== undefined) source = `${source.slice(0, optionalFrom)}(?:${source.slice(optionalFrom)})?`;
  return new RegExp(`^${source}(?<sev>[A-Z0-9]+):  (?<msg>.*)$`);
}

export function stderrRecords(text: string, prefix: string): LogRecord[] {
  const pattern = prefixPattern(prefix);
  if (!pattern) return [];
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) continue; // DETAIL/continuation of the previous entry
    const match = pattern.exec(line);
    if (!match?.groups) continue;
    const g = match.groups;
    // Before authentication %u and %d print [unknown] (elog.c); a walsender's %d stays so.
    for (const key of ['u', 'd', 'a', 'h', 'r']) if (g[key] === '[unknown]') g[key] = '';
    records.push({
      time: g.m ?? g.t ?? (g.n ? new Date(Number(g.n) * 1000).toISOString() : undefined),
      pid: Number(g.p),
      host: g.h || (g.r ? hostOfRemote(g.r) : undefined),
      user: g.u || undefined,
      database: g.d || undefined,
      message: g.msg,
    });
  }
  return records;
}

/** %r is host(port) (or [local]); connection_from in csvlog is host:port. */
function hostOfRemote(remote: string): string {
  return /^(.*)\(\d+\)$/.exec(remote)?.[1] ?? remote;
}

export function csvRecords(text: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const row of csvRows(text)) {
    if (row.length < 14 || !/^\d+$/.test(row[3])) continue;
    const from = row[4];
    records.push({
      time: row[0] || undefined,
      pid: Number(row[3]),
      host: from ? (from === '[local]' ? from : from.replace(/:\d+$/, '')) : undefined,
      user: row[1] || undefined,
      database: row[2] || undefined,
      message: row[13],
    });
  }
  return records;
}

/**
 * RFC 4180 rows as PostgreSQL writes them: "" inside quotes, newlines inside
 * quoted fields. Scans with indexOf (a character loop ran at 5 MB/s).
 */
function* csvRows(text: string): Generator<string[]> {
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let field: string;
    if (text[i] === '"') {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1) {
          value += text.slice(from);
          i = n;
          break;
        }
        value += text.slice(from, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          from = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      field = value;
    } else {
      let end = i;
      while (end < n && text[end] !== ',' && text[end] !== '\n') end++;
      field = text.slice(i, end);
      i = end;
    }
    row.push(field);
    if (i >= n || text[i] === '\n') {
      yield row;
      row = [];
    }
    i++;
  }
}

export function jsonRecords(text: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // a line cut by rotation or a partial write
    }
    if (typeof entry.pid !== 'number' || typeof entry.message !== 'string') continue;
    records.push({
      time: typeof entry.timestamp === 'string' ? entry.timestamp : undefined,
      pid: entry.pid,
      host: typeof entry.remote_host === 'string' ? entry.remote_host : undefined,
      user: typeof entry.user === 'string' && entry.user ? entry.user : undefined,
      database: typeof entry.dbname === 'string' && entry.dbname ? entry.dbname : undefined,
      message: entry.message,
    });
  }
  return records;
}

export function logRecords(format: LogFormat, text: string, prefix: string): LogRecord[] {
  if (format === 'csvlog') return csvRecords(text);
  if (format === 'jsonlog') return jsonRecords(text);
  return stderrRecords(text, prefix);
}
