/**
 * A strict parser of the Prometheus text exposition format (0.0.4), the one
 * node_exporter's textfile collector reads: every line is a HELP, a TYPE, a
 * comment or a sample of the grammar; a TYPE comes before its family's samples,
 * once; a family's lines are one group; no series twice; label values only with
 * the three escapes (\\ \" \n). Throws naming the line; returns the families
 * with label values unescaped, for assertions.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const types = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the last line does not end with a line feed');
  const families = new Map<string, MetricFamily>();
  const series = new Set<string>();
  let current: string | undefined;
  const closed = new Set<string>();
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    if (line.trim() === '') return;
    const family = (name: string): MetricFamily => {
      if (current !== name) {
        if (closed.has(name)) throw new Error(`${where}: the lines of ${name} are not one group`);
        if (current) closed.add(current);
        current = name;
      }
      let f = families.get(name);
      if (!f) families.set(name, (f = { name, samples: [] }));
      return f;
    };
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!meta) {
        if (/^#\s*(HELP|TYPE)\b/.test(line)) throw new Error(`${where}: malformed ${line.includes('HELP') ? 'HELP' : 'TYPE'} line`);
        return; // a plain comment
      }
      const [, kind, name, rest = ''] = meta;
      if (!metricName.test(name)) throw new Error(`${where}: invalid metric name ${name}`);
      const f = family(name);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: a second HELP for ${name}`);
        f.help = unescape(rest, where, false);
      } else {
        if (f.type !== undefined) throw new Error(`${where}: a second TYPE for ${name}`);
        if (f.samples.length > 0) throw new Error(`${where}: TYPE of ${name} after its samples`);
        if (!types.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        f.type = rest;
      }
      return;
    }
    const sample = parseSample(line, where);
    const f = family(familyOf(sample.name, families));
    if (f.type === undefined) throw new Error(`${where}: a sample of ${f.name} before its TYPE line`);
    const key = `${sample.name}{${Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) throw new Error(`${where}: the series ${key} appears twice`);
    series.add(key);
    f.samples.push(sample);
  });
  return families;
}

/** Histogram and summary samples (_bucket, _sum, _count) belong to the family named without the suffix. */
function familyOf(name: string, families: Map<string, MetricFamily>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const type = families.get(base)?.type;
  return base !== name && (type === 'histogram' || type === 'summary') ? base : name;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`${where}: not a sample line`);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos += 1;
    while (line[pos] !== '}') {
      const labelMatch = /^[^=]*/.exec(line.slice(pos))!;
      const label = labelMatch[0];
      if (!labelName.test(label) || label.startsWith('__')) throw new Error(`${where}: invalid label name ${JSON.stringify(label)}`);
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      pos += label.length;
      if (line.slice(pos, pos + 2) !== '="') throw new Error(`${where}: expected =" after ${label}`);
      pos += 2;
      let raw = '';
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new Error(`${where}: unterminated value of ${label}`);
        if (c === '"') break;
        if (c === '\\') {
          raw += c + (line[pos + 1] ?? '');
          pos += 2;
        } else {
          raw += c;
          pos += 1;
        }
      }
      labels[label] = unescape(raw, where, true);
      pos += 1;
      if (line[pos] === ',') pos += 1;
      else if (line[pos] !== '}') throw new Error(`${where}: expected , or } after the value of ${label}`);
    }
    pos += 1;
  }
  const rest = /^ (\S+)(?: (-?\d+))?$/.exec(line.slice(pos));
  if (!rest) throw new Error(`${where}: expected one space, a value and an optional timestamp`);
  const value = parseValue(rest[1]);
  if (value === undefined) throw new Error(`${where}: invalid value ${rest[1]}`);
  return { name, labels, value };
}

function parseValue(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : undefined;
}

/** Label values may escape \\, \" and \n; HELP text only \\ and \n. Anything else after a backslash is an error. */
function unescape(raw: string, where: string, quoteAllowed: boolean): string {
  return raw.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quoteAllowed) return '"';
    throw new Error(`${where}: invalid escape \\${c}`);
  });
}
