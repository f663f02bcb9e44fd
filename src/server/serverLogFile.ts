/**
 * The server's log files and what they are set to record, for readiness:
 * log_connections, log_line_prefix, log_destination, and the files the
 * logging collector writes (pg_current_logfile(), else the data directory's
 * current_logfiles, plus older files of log_directory named by the same
 * log_filename pattern). Reads only; never changes a setting.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { UsageError } from '../errors.js';
import type { LogFormat } from '../readiness/logRecords.js';
import type { Client } from './connect.js';

export interface LogSettings {
  logConnections: string;
  logLinePrefix: string;
  logDestination: string[];
  loggingCollector: boolean;
  logDirectory: string;
  logFilename: string;
  dataDirectory: string;
  lcMessages: string;
}

export interface LogFile {
  path: string;
  format: LogFormat;
}

export interface LogText extends LogFile {
  text: string;
  /** Only the last part of a file this large was read. */
  truncated: boolean;
}

/** Settings readiness needs; data_directory and log_directory need superuser or pg_read_all_settings. */
export async function readLogSettings(client: Client): Promise<LogSettings> {
  const { rows } = await client.query(`
    SELECT current_setting('log_connections') AS log_connections,
           current_setting('log_line_prefix') AS log_line_prefix,
           current_setting('log_destination') AS log_destination,
           current_setting('logging_collector') AS logging_collector,
           current_setting('log_directory', true) AS log_directory,
           current_setting('log_filename', true) AS log_filename,
           current_setting('data_directory', true) AS data_directory,
           current_setting('lc_messages', true) AS lc_messages`);
  const row = rows[0];
  return {
    logConnections: row.log_connections,
    logLinePrefix: row.log_line_prefix,
    logDestination: String(row.log_destination).split(',').map((d) => d.trim().toLowerCase()).filter(Boolean),
    loggingCollector: row.logging_collector === 'on',
    logDirectory: row.log_directory ?? '',
    logFilename: row.log_filename ?? '',
    dataDirectory: row.data_directory ?? '',
    lcMessages: row.lc_messages ?? '',
  };
}

const structuredFirst: LogFormat[] = ['jsonlog', 'csvlog', 'stderr'];

/**
 * The collector's current file of the most structured format it writes
 * (the same entries are in each, so one format is read), and older files
 * beside it with the same pattern. Empty when there is no collector file.
 */
export async function findServerLogFiles(client: Client, settings: LogSettings): Promise<LogFile[]> {
  if (!settings.loggingCollector) return [];
  const current = new Map<LogFormat, string>();
  try {
    const { rows } = await client.query(`SELECT pg_current_logfile('stderr') AS stderr, pg_current_logfile('csvlog') AS csvlog, ${settings.logDestination.includes('jsonlog') ? "pg_current_logfile('jsonlog')" : 'NULL'} AS jsonlog`);
    for (const format of structuredFirst) if (rows[0][format]) current.set(format, rows[0][format]);
  } catch {
    // pg_current_logfile() is for superusers and pg_monitor: the file it reads is readable here too, perhaps.
    for (const [format, path] of readCurrentLogfiles(settings.dataDirectory)) current.set(format, path);
  }
  const format = structuredFirst.find((f) => current.has(f));
  if (!format) return [];
  const raw = current.get(format)!;
  const path = isAbsolute(raw) ? raw : join(settings.dataDirectory, raw);
  return [...olderSiblings(path, settings.logFilename, format), { path, format }];
}

function readCurrentLogfiles(dataDirectory: string): [LogFormat, string][] {
  try {
    return readFileSync(join(dataDirectory, 'current_logfiles'), 'utf8')
      .split('\n')
      .map((line) => /^(stderr|csvlog|jsonlog) (.+)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as LogFormat, m[2]]);
  } catch {
    return [];
  }
}

/** log_filename is a strftime pattern; csvlog/jsonlog files swap .log for .csv/.json (or append it). */
export function logFilenamePattern(logFilename: string, format: LogFormat): RegExp {
  const fields: Record<string, string> = { Y: '\\d{4}', m: '\\d\\d', d: '\\d\\d', H: '\\d\\d', M: '\\d\\d', S: '\\d\\d', j: '\\d{3}', a: '\\w+', b: '\\w+', A: '\\w+', B: '\\w+', y: '\\d\\d', '%': '%' };
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let base = logFilename;
  const ext = format === 'csvlog' ? '.csv' : format === 'jsonlog' ? '.json' : '';
  if (ext) base = base.endsWith('.log') ? base.slice(0, -4) + ext : base + ext;
  let source = '';
  for (let i = 0; i < base.length; i++) {
    if (base[i] === '%' && i + 1 < base.length) source += fields[base[++i]] ?? '.*?';
    else source += escape(base[i]);
  }
  return new RegExp(`^${source}$`);
}

function olderSiblings(current: string, logFilename: string, format: LogFormat): LogFile[] {
  if (!logFilename) return [];
  const dir = dirname(current);
  const pattern = logFilenamePattern(logFilename, format);
  try {
    return readdirSync(dir)
      .filter((name) => name !== basename(current) && pattern.test(name))
      .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime)
      .map(({ path }) => ({ path, format }));
  } catch {
    return [];
  }
}

/** A file given with --log: its format from its name (.csv, .json; else stderr). */
export function givenLogFile(path: string): LogFile {
  const ext = extname(path).toLowerCase();
  return { path, format: ext === '.csv' ? 'csvlog' : ext === '.json' ? 'jsonlog' : 'stderr' };
}

const maxBytes = 256 * 1024 * 1024;

/** The file's text (its last 256 MiB when larger). Throws UsageError naming the file and the fix. */
export function readLogFile(file: LogFile): LogText {
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read the server log ${file.path} (${code ?? (error as Error).message}); nothing was changed. ${code === 'EACCES' ? 'Run pgssl readiness as root or as the postgres OS user (sudo -u postgres pgssl readiness), or give a readable copy with --log FILE.' : 'Give the file the server writes with --log FILE (pg_ctl -l FILE, or the log_directory of the server).'}`,
      { cause: error },
    );
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    let text = buffer.toString('utf8');
    // Started mid-file: drop the partial first entry.
    if (length < size) text = text.slice(text.indexOf('\n') + 1);
    return { ...file, text, truncated: length < size };
  } finally {
    closeSync(fd);
  }
}
