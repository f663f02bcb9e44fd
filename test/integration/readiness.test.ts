/**
 * pgssl readiness on a real server (run per major by scripts/test-matrix.mjs):
 * real clients connect with and without TLS from several loopback addresses,
 * as several roles, and a walsender; the server logs them (stderr, csvlog,
 * and jsonlog on 15+; log_connections as a list on 18); readiness must name
 * each plain client with the verdict the planned pg_hba.conf gives, from the
 * log the collector writes and from each format given with --log, count a
 * live session once, and change nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadHba } from '../../src/hba/load.js';
import { planRewrite } from '../../src/hba/rewrite.js';
import { assessReadiness } from '../../src/readiness/assess.js';
import { socketFrom } from '../../src/server/boundSocket.js';
import { withClient } from '../../src/server/connect.js';
import { resolveConnectionTarget } from '../../src/server/connectionTarget.js';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { snapshot } from '../support/snapshot.js';
import { installOpensslCert, turnSslOn } from '../support/tlsSetup.js';

// Lines 2 and 3 are loopback-only and stay host; 4 and 5 become hostssl.
const hba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        127.0.0.3/32  trust
host    all          all        0.0.0.0/0     trust
host    replication  all        0.0.0.0/0     trust
`;

function client(cluster: Cluster, from: string, options: { user?: string; database?: string; ssl?: boolean; application?: string; replication?: boolean } = {}): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port: cluster.port,
    user: options.user ?? 'postgres',
    database: options.database ?? 'postgres',
    application_name: options.application,
    ssl: options.ssl ? { rejectUnauthorized: false } : false,
    stream: socketFrom(from),
    ...(options.replication ? { replication: true } : {}),
  } as pg.ClientConfig);
}

async function connectOnce(cluster: Cluster, from: string, options: Parameters<typeof client>[2] = {}): Promise<void> {
  const c = client(cluster, from, options);
  await c.connect();
  await c.end();
}

/** The collector writes asynchronously: wait until every current log file holds `text`. */
async function logged(cluster: Cluster, text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const files = await currentLogFiles(cluster);
    if (files.length > 0 && files.every((f) => readFileSync(f.path, 'utf8').includes(text))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the server log never showed ${text}`);
}

async function currentLogFiles(cluster: Cluster): Promise<{ format: string; path: string }[]> {
  const formats = cluster.major >= 15 ? ['stderr', 'csvlog', 'jsonlog'] : ['stderr', 'csvlog'];
  const files = [];
  for (const format of formats) {
    const [row] = await cluster.query<{ file: string | null }>(`SELECT pg_current_logfile('${format}') AS file`);
    if (row.file) files.push({ format, path: join(cluster.dataDir, row.file) });
  }
  return files;
}

interface ClientRow {
  user: string;
  database?: string;
  address?: string;
  application?: string;
  replication: boolean;
  count: number;
  sources: string[];
  judgement: { verdict: string; rule?: { line: number } };
}

function summary(clients: ClientRow[]) {
  return clients
    .map((c) => ({ who: `${c.user}@${c.database ?? 'replication'} from ${c.address}${c.application ? ` (${c.application})` : ''}`, verdict: c.judgement.verdict, line: c.judgement.rule?.line }))
    .sort((a, b) => a.who.localeCompare(b.who));
}

describe('pgssl readiness on a real server', () => {
  let cluster: Cluster;
  let live: pg.Client | undefined;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    cluster = await startCluster({ hba, settings: { logging_collector: 'on', log_directory: "'log'", log_connections: 'on', max_wal_senders: '5' } });
    const destinations = cluster.major >= 15 ? 'stderr,csvlog,jsonlog' : 'stderr,csvlog';
    await cluster.query(`ALTER SYSTEM SET log_destination = '${destinations}'`);
    // 18: log_connections is a list; the two aspects readiness needs, written out.
    if (cluster.major >= 18) await cluster.query("ALTER SYSTEM SET log_connections = 'receipt,authorization'");
    await turnSslOn(cluster, installOpensslCert(cluster));
    await cluster.query('CREATE ROLE app LOGIN');
    await cluster.query('CREATE DATABASE appdb OWNER app');
    await connectOnce(cluster, '127.0.0.2', { user: 'app', database: 'appdb', application: 'billing job' });
    await connectOnce(cluster, '127.0.0.2', { user: 'app', database: 'appdb', application: 'billing job' });
    await connectOnce(cluster, '127.0.0.3');
    await connectOnce(cluster, '127.0.0.4', { user: 'app', database: 'appdb', ssl: true });
    await connectOnce(cluster, '127.0.0.5', { replication: true });
    live = client(cluster, '127.0.0.6', { user: 'app', application: 'still here' });
    await live.connect();
    await logged(cluster, 'application_name=still here');
    env = cluster.env();
  });
  after(async () => {
    await live?.end().catch(() => undefined);
    cluster?.stop();
  });

  const expected = [
    { who: 'app@appdb from 127.0.0.2 (billing job)', verdict: 'refused', line: undefined },
    { who: 'app@postgres from 127.0.0.6 (still here)', verdict: 'refused', line: undefined },
    { who: 'postgres@postgres from 127.0.0.3', verdict: 'allowed', line: 3 },
    { who: 'postgres@replication from 127.0.0.5', verdict: 'refused', line: undefined },
  ];

  it('the collector\'s log and the live sessions: each plain client with its verdict, exit 3, nothing changed', async () => {
    const before = await snapshot(cluster);
    const r = await runPgssl(['readiness', '--json'], { env });
    assert.equal(r.code, 3, r.stderr);
    const report = parseJsonOutput(r);
    assert.deepEqual(summary(report.clients), expected);
    assert.equal(report.command, 'readiness');
    assert.equal(report.ok, false);
    assert.equal(report.refused, 3);
    assert.deepEqual(report.plannedRewrite.map((c: { line: number }) => c.line), [4, 5]);
    assert.equal(report.sources.log.files.at(-1).format, cluster.major >= 15 ? 'jsonlog' : 'csvlog');
    const billing = report.clients.find((c: ClientRow) => c.address === '127.0.0.2');
    assert.equal(billing.count, 2, 'two connections, one client');
    const liveOne = report.clients.find((c: ClientRow) => c.address === '127.0.0.6');
    assert.equal(liveOne.count, 1, 'in the log and among the sessions, counted once');
    assert.deepEqual(liveOne.sources, ['session']);
    assert.ok(report.unknowns.some((u: { id: string }) => u.id === 'NOT_SEEN'));
    assert.ok(!report.unknowns.some((u: { id: string }) => u.id === 'LOG_CONNECTIONS_OFF'), JSON.stringify(report.unknowns));
    assert.deepEqual(await snapshot(cluster), before, 'read-only');
  });

  it('every log format given with --log gives the same clients', async () => {
    for (const file of await currentLogFiles(cluster)) {
      const r = await runPgssl(['readiness', '--json', '--log', file.path], { env });
      assert.equal(r.code, 3, `${file.format}: ${r.stderr}`);
      const report = parseJsonOutput(r);
      assert.deepEqual(summary(report.clients), expected, file.format);
      assert.equal(report.sources.log.files[0].format, file.format);
    }
  });

  it('text output names the client and the line; --skip-replication keeps the walsender allowed by line 5', async () => {
    const text = await runPgssl(['readiness', '--no-color'], { env });
    assert.equal(text.code, 3);
    assert.match(text.stdout, /app → database appdb from 127\.0\.0\.2 \(application billing job\)\n\s+would be refused: no rule would match it without TLS/);
    assert.match(text.stdout, /postgres → database postgres from 127\.0\.0\.3\n\s+still allowed by \S+pg_hba\.conf:3 \(host +all +all +127\.0\.0\.3\/32 +trust\)/);
    const skip = parseJsonOutput(await runPgssl(['readiness', '--json', '--skip-replication'], { env }));
    assert.deepEqual(summary(skip.clients).find((c) => c.who.includes('127.0.0.5')), { who: 'postgres@replication from 127.0.0.5', verdict: 'allowed', line: 5 });
  });

  it('--only-address leaving 0.0.0.0/0 alone: nobody would be refused, exit 0', async () => {
    const r = await runPgssl(['readiness', '--json', '--only-address', '10.0.0.0/8'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.ok, true);
    assert.deepEqual(report.plannedRewrite, []);
    assert.ok(report.clients.every((c: ClientRow) => c.judgement.verdict === 'allowed'));
  });

  it('assessReadiness with enable\'s own plan (one rule deselected): judged against that plan, not the flags', async () => {
    const plan = planRewrite(loadHba(cluster.hbaFile, cluster.major), { exclude: new Set([`${cluster.hbaFile}:4`]) });
    const target = resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port), username: 'postgres', dbname: 'postgres' });
    const report = await withClient(target, (c) => assessReadiness(c, target, { plan }));
    assert.deepEqual(report.plannedRewrite.map((r) => r.line), [5]);
    assert.deepEqual(summary(report.clients as unknown as ClientRow[]), [
      { who: 'app@appdb from 127.0.0.2 (billing job)', verdict: 'allowed', line: 4 },
      { who: 'app@postgres from 127.0.0.6 (still here)', verdict: 'allowed', line: 4 },
      { who: 'postgres@postgres from 127.0.0.3', verdict: 'allowed', line: 3 },
      { who: 'postgres@replication from 127.0.0.5', verdict: 'refused', line: undefined },
    ]);
    assert.equal(report.exitCode, 3);
  });

  it('a --log file that cannot be read: the cause and the fix, exit 2, nothing changed', async () => {
    const before = await snapshot(cluster);
    const missing = join(cluster.dir, 'no-such.log');
    const r = await runPgssl(['readiness', '--json', '--log', missing], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`cannot read the server log ${missing} \\(ENOENT\\); nothing was changed\\. Give the file the server writes with --log FILE`));
    const report = parseJsonOutput(r);
    assert.equal(report.error.id, 'BAD_INPUT');
    assert.equal(report.ok, false);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('--for that is not a duration is refused before connecting (exit 2)', async () => {
    const r = await runPgssl(['readiness', '--for', '10 minutes', '--port', '1'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--for "10 minutes": expected a duration from 0 to 24h/);
  });

  it('log_connections off: says so and prints the statement for this major, never runs it; live sessions still judged', async () => {
    await cluster.query('ALTER SYSTEM SET log_connections = off');
    await cluster.reload();
    try {
      const before = await snapshot(cluster);
      const r = await runPgssl(['readiness', '--json', '--log', join(cluster.dir, 'server.log')], { env });
      const report = parseJsonOutput(r);
      const off = report.unknowns.find((u: { id: string }) => u.id === 'LOG_CONNECTIONS_OFF');
      assert.ok(off, JSON.stringify(report.unknowns));
      assert.deepEqual(off.sql, [cluster.major >= 18 ? "ALTER SYSTEM SET log_connections = 'receipt,authorization';" : 'ALTER SYSTEM SET log_connections = on;', 'SELECT pg_reload_conf();']);
      const [setting] = await cluster.query<{ v: string }>("SELECT current_setting('log_connections') AS v");
      assert.ok(['off', ''].includes(setting.v), `log_connections is still off (${setting.v})`);
      assert.deepEqual(summary(report.clients), [expected[1]], 'the live session, from pg_stat_activity');
      assert.equal(r.code, 3);
      // Sampled over 2 s: the same backend in every sample is one session, seen once.
      const sampled = parseJsonOutput(await runPgssl(['readiness', '--json', '--for', '2s', '--log', join(cluster.dir, 'server.log')], { env }));
      assert.equal(sampled.sources.sessions.samples, '2 s');
      assert.deepEqual(sampled.clients.map((c: ClientRow) => [c.address, c.count]), [['127.0.0.6', 1]]);
      assert.deepEqual(await snapshot(cluster), before);
    } finally {
      await cluster.query('ALTER SYSTEM RESET log_connections');
      await cluster.reload();
    }
  });
});
