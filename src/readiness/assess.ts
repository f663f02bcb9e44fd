/**
 * `assessReadiness`: who, among the clients seen without TLS, the planned
 * pg_hba.conf would refuse. Read-only: queries, reads pg_hba.conf and the
 * server log; never changes a setting or a file (not even log_connections).
 * The enable flow calls it with its plan's rewrite options (issue 10).
 */
import { UsageError, OperationalError } from '../errors.js';
import { describeErrors } from '../hba/describe.js';
import { diskReader, loadHba, overlayReader } from '../hba/load.js';
import { planRewrite, type RewriteOptions, type RewritePlan } from '../hba/rewrite.js';
import type { Client } from '../server/connect.js';
import type { ConnectionTarget } from '../server/connectionTarget.js';
import { findServerLogFiles, givenLogFile, readLogFile, readLogSettings, type LogFile, type LogSettings } from '../server/serverLogFile.js';
import { sampleTcpSessions } from '../server/sessions.js';
import { plainClients } from './clients.js';
import { logConnectionsState, prefixNamesHost } from './logConnectionsSetting.js';
import { connectionsFromLog, connectionsFromSessions, withoutLiveDuplicates, type SeenConnection } from './logConnections.js';
import { logRecords, prefixPattern } from './logRecords.js';
import { buildReadinessReport, type ReadinessReport, type ReadinessSources, type Unknown } from './report.js';
import { judgeClients } from './verdicts.js';

export interface ReadinessOptions {
  /** The rewrite to judge against: the flags' limits (planned here from pg_hba.conf on disk)… */
  rewrite?: RewriteOptions;
  /** …or a plan already made (enable's, after the wizard's choices), so that both judge the same rules. */
  plan?: RewritePlan;
  /** Sample live sessions over this many seconds (0: one sample). */
  forSeconds?: number;
  /** Log files to read instead of the ones the server's collector writes. */
  logFiles?: string[];
}

export async function assessReadiness(client: Client, target: ConnectionTarget, options: ReadinessOptions): Promise<ReadinessReport> {
  const server = await readServer(client);
  const loaded = loadHba(server.hbaFile, server.major);
  if (loaded.errors.length > 0) {
    throw new UsageError(
      `pgssl cannot read ${server.hbaFile} the way PostgreSQL ${server.major} does, so it cannot tell who the rewrite would refuse; nothing was changed:\n${describeErrors(loaded.errors)}\nRun pgssl readiness on the server's host as root or the postgres OS user (sudo -u postgres pgssl readiness).`,
    );
  }
  const plan = options.plan ?? planRewrite(loaded, options.rewrite ?? {});
  const planned = loadHba(server.hbaFile, server.major, overlayReader(diskReader, plan.files)).rules;
  const unknowns: Unknown[] = [];

  const sessions = await sampleTcpSessions(client, options.forSeconds ?? 0);
  const fromSessions = connectionsFromSessions(sessions);
  const logSettings = await readLogSettings(client);
  const fromLog = await logConnections(client, logSettings, server.major, options.logFiles, unknowns, target);
  const seen: SeenConnection[] = [...withoutLiveDuplicates(fromLog.connections, sessions), ...fromSessions];

  const clients = plainClients(seen);
  const memberOf = await readMemberships(client, [...new Set(clients.map((c) => c.user))]);
  const judged = judgeClients(clients, planned, { major: server.major, memberOf });

  if (!server.seesAllSessions) {
    unknowns.push({ id: 'SESSIONS_HIDDEN', message: `role "${target.user}" sees other roles' sessions without their address (it is neither superuser nor in pg_read_all_stats), so live sessions of other roles are missing.`, fix: 'run as a superuser (sudo -u postgres pgssl readiness) or GRANT pg_read_all_stats to this role.' });
  }
  if (planned.some((r) => r.address?.kind === 'hostname' || r.address?.kind === 'samenet')) {
    unknowns.push({ id: 'HOST_NAME_RULES', message: 'pg_hba.conf has rules that name host names or samenet: the server resolves them for each connection, so clients that reach such a rule are shown as "cannot tell".' });
  }
  unknowns.push({
    id: 'NOT_SEEN',
    message: `only clients that connected ${fromLog.from && fromLog.logsConnections ? `since ${fromLog.from} (the oldest log entry read)` : 'while the sessions were sampled'} are known: a cron job, a report or a standby that did not connect then is not in this list.`,
    fix: 'keep log_connections on for a full business cycle (a week, a month-end) before enforcing, or sample longer with --for.',
  });
  const sources: ReadinessSources = {
    sessions: { samples: options.forSeconds ? `${options.forSeconds} s` : 'one', seen: sessions.length },
    log: { files: fromLog.files, connectionsSeen: fromLog.connections.length, from: fromLog.from, to: fromLog.to },
  };
  return buildReadinessReport({
    server: { major: server.major, hbaFile: server.hbaFile },
    plannedRewrite: plan.changes.map((c) => ({ file: c.file, line: c.line })),
    sources,
    clients: judged,
    unknowns,
  });
}

async function readServer(client: Client): Promise<{ major: number; hbaFile: string; seesAllSessions: boolean }> {
  const { rows } = await client.query(`
    SELECT current_setting('server_version_num')::int / 10000 AS major,
           current_setting('hba_file', true) AS hba_file,
           (current_setting('is_superuser') = 'on' OR pg_has_role('pg_read_all_stats', 'MEMBER')) AS sees_all`);
  const row = rows[0];
  if (row.major < 12) throw new OperationalError(`PostgreSQL ${row.major} is too old: pgssl supports 12 and later.`);
  if (!row.hba_file) {
    throw new OperationalError('the server does not show hba_file to this role, so pgssl cannot read the rules it would rewrite; nothing was changed. Connect as a superuser or a member of pg_read_all_settings (sudo -u postgres pgssl readiness).');
  }
  return { major: row.major, hbaFile: row.hba_file, seesAllSessions: row.sees_all };
}

async function readMemberships(client: Client, users: string[]): Promise<Map<string, string[]>> {
  if (users.length === 0) return new Map();
  const { rows } = await client.query(
    `SELECT r.rolname, array(SELECT b.rolname FROM pg_roles b WHERE b.oid <> r.oid AND pg_has_role(r.oid, b.oid, 'MEMBER'))::text[] AS member_of
       FROM pg_roles r WHERE r.rolname = ANY($1::text[])`,
    [users],
  );
  return new Map(rows.map((row) => [row.rolname as string, row.member_of as string[]]));
}

interface FromLog {
  connections: SeenConnection[];
  /** log_connections writes authorization entries now (older entries are read either way). */
  logsConnections: boolean;
  files: ReadinessSources['log']['files'];
  from?: string;
  to?: string;
}

async function logConnections(client: Client, settings: LogSettings, major: number, given: string[] | undefined, unknowns: Unknown[], target: ConnectionTarget): Promise<FromLog> {
  const state = logConnectionsState(major, settings.logConnections, prefixNamesHost(settings.logLinePrefix));
  if (state.turnOn) {
    unknowns.push({
      id: 'LOG_CONNECTIONS_OFF',
      message: `log_connections = '${settings.logConnections}': the server does not log ${state.logsAuthorization ? 'where each connection comes from' : 'who connects and whether they use TLS'}, so only the live sessions sampled now are known.`,
      fix: 'turn it on (pgssl readiness never does): a superuser runs the statements below; new connections are logged from then on, no restart.',
      sql: state.turnOn,
    });
  }
  let files: LogFile[];
  if (given?.length) files = given.map(givenLogFile);
  else {
    files = await findServerLogFiles(client, settings);
    if (files.length === 0) {
      unknowns.push({
        id: 'NO_LOG_FILE',
        message: settings.loggingCollector
          ? 'the logging collector writes no stderr, csvlog or jsonlog file (log_destination is syslog or eventlog), so past connections are not known.'
          : 'logging_collector is off: the server writes its log where its start script sends stderr (pg_ctl -l FILE, journald, /var/log/postgresql), which pgssl cannot find.',
        fix: 'give that file with --log FILE (repeatable; .csv and .json are read as csvlog and jsonlog).',
      });
      return { connections: [], files: [], logsConnections: state.logsAuthorization };
    }
  }
  const connections: SeenConnection[] = [];
  let from: string | undefined;
  let to: string | undefined;
  const read: FromLog['files'] = [];
  if (files.some((f) => f.format === 'stderr') && !prefixPattern(settings.logLinePrefix)) {
    unknowns.push({ id: 'PREFIX_WITHOUT_PID', message: `log_line_prefix = '${settings.logLinePrefix}' has no %p, so stderr log entries cannot be joined into connections.`, fix: "set log_line_prefix = '%m [%p] ' (the default) or use csvlog/jsonlog." });
  }
  const own = await client.query('SELECT pg_backend_pid() AS pid');
  const ownPid: number = own.rows[0].pid;
  for (const file of files) {
    let text;
    try {
      text = readLogFile(file);
    } catch (error) {
      if (given?.length) throw error;
      unknowns.push({ id: 'LOG_UNREADABLE', message: (error as Error).message });
      continue;
    }
    read.push({ path: file.path, format: file.format, truncated: text.truncated });
    if (text.truncated) unknowns.push({ id: 'LOG_TRUNCATED', message: `${file.path} is larger than 256 MiB: only its end was read.` });
    const records = logRecords(file.format, text.text, settings.logLinePrefix);
    from ??= records.find((r) => r.time)?.time;
    to = records.findLast((r) => r.time)?.time ?? to;
    // This very connection of pgssl's is not a client to judge.
    const found = connectionsFromLog(records).filter((c) => !(c.pid === ownPid && c.application === target.applicationName));
    connections.push(...found);
    // Walsender lines never name the database; only %d (or csvlog/jsonlog) tells logical from physical.
    if (file.format === 'stderr' && !/%-?\d*d/.test(settings.logLinePrefix) && found.some((c) => c.replication) && !unknowns.some((u) => u.id === 'REPLICATION_KIND_GUESSED')) {
      unknowns.push({ id: 'REPLICATION_KIND_GUESSED', message: 'replication connections in a stderr log without %d in log_line_prefix are taken as physical (a logical one would be judged by its database\'s rules instead).', fix: "add %d to log_line_prefix (Debian's default '%m [%p] %q%u@%d ' has it) or use csvlog/jsonlog." });
    }
  }
  if (!/^(c|posix|en)/i.test(settings.lcMessages) && settings.lcMessages !== '') {
    unknowns.push({ id: 'MESSAGES_TRANSLATED', message: `lc_messages = '${settings.lcMessages}': connection entries written in another language are not recognised.`, fix: "ALTER SYSTEM SET lc_messages = 'C' and reload, so that log lines are in English." });
  }
  return { connections, files: read, from, to, logsConnections: state.logsAuthorization };
}
