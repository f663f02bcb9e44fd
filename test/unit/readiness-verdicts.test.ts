/** Verdicts under the planned rewrite, log_connections per major, --for: pure logic, table-driven. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadHba, overlayReader, type FileReader } from '../../src/hba/load.js';
import { planRewrite, type RewriteOptions } from '../../src/hba/rewrite.js';
import { plainClients, type PlainClient } from '../../src/readiness/clients.js';
import { parseDuration } from '../../src/readiness/duration.js';
import type { SeenConnection } from '../../src/readiness/logConnections.js';
import { logConnectionsState, prefixNamesHost } from '../../src/readiness/logConnectionsSetting.js';
import { buildReadinessReport, verdictText } from '../../src/readiness/report.js';
import { judgeClients } from '../../src/readiness/verdicts.js';

const hba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        10.0.0.99/32  reject
host    sales        +staff     10.0.0.0/8    reject
host    all          all        10.0.0.0/8    scram-sha-256
host    replication  repl       10.0.1.0/24   scram-sha-256
host    all          all        .corp.example scram-sha-256
hostnossl all        legacy     192.0.2.0/24  md5
hostnossl all        legacy     .corp.example md5
`;

function planned(options: RewriteOptions = {}) {
  const reader: FileReader = { read: () => hba, list: () => [] };
  const loaded = loadHba('/etc/pg_hba.conf', 16, reader);
  const plan = planRewrite(loaded, options);
  return loadHba('/etc/pg_hba.conf', 16, overlayReader(reader, plan.files)).rules;
}

const client = (c: Partial<PlainClient>): PlainClient => ({ user: 'app', database: 'app', address: '10.0.0.5', replication: false, gssEncrypted: false, count: 1, sources: ['log'], ...c });
const memberOf = new Map([['alice', ['staff']]]);

describe('judgeClients against the planned pg_hba.conf', () => {
  const cases: [string, Partial<PlainClient>, RewriteOptions, string][] = [
    ['a remote plain client: its host line became hostssl, nothing else matches', {}, {}, 'would be refused: no rule would match it without TLS'],
    ['loopback stays host (not --include-loopback)', { address: '127.0.0.1' }, {}, 'still allowed by /etc/pg_hba.conf:2'],
    ['--include-loopback converts it too', { address: '127.0.0.1' }, { includeLoopback: true }, 'would be refused: no rule'],
    ['a reject line decides first (kept as host)', { address: '10.0.0.99' }, {}, 'would be refused by /etc/pg_hba.conf:3'],
    ['--only-db sales leaves the catch-all line as host', {}, { databases: ['sales'] }, 'still allowed by /etc/pg_hba.conf:5'],
    ['+staff through membership: the reject line decides for alice', { user: 'alice', database: 'sales' }, {}, 'would be refused by /etc/pg_hba.conf:4'],
    ['not a member: the converted catch-all no longer matches', { user: 'bob', database: 'sales' }, {}, 'would be refused: no rule'],
    ['physical walsender: replication rule converted', { user: 'repl', database: undefined, replication: true, address: '10.0.1.7' }, {}, 'would be refused: no rule'],
    ['--skip-replication keeps it', { user: 'repl', database: undefined, replication: true, address: '10.0.1.7' }, { skipReplication: true }, 'still allowed by /etc/pg_hba.conf:6'],
    ['a hostnossl hole stays open', { user: 'legacy', address: '192.0.2.10' }, {}, 'still allowed by /etc/pg_hba.conf:8'],
    ['a hostnossl host-name rule the server resolves: cannot tell', { user: 'legacy', address: '198.51.100.1' }, {}, 'cannot tell: line 9 names a host name or samenet'],
    ['no address known: cannot tell', { address: undefined }, {}, 'cannot tell: its address is not in the log'],
  ];
  for (const [title, c, options, expected] of cases) {
    it(title, () => {
      const [judged] = judgeClients([client(c)], planned(options), { major: 16, memberOf });
      assert.ok(verdictText(judged).startsWith(expected), verdictText(judged));
    });
  }
  it('exit 3 when one would be refused, 0 when none', () => {
    const refusedOne = judgeClients([client({}), client({ address: '127.0.0.1' })], planned(), { major: 16, memberOf });
    const base = { plannedRewrite: [], sources: { sessions: { samples: 'one' as const, seen: 0 }, log: { files: [], connectionsSeen: 0 } }, unknowns: [] };
    assert.deepEqual([buildReadinessReport({ ...base, clients: refusedOne }).exitCode, buildReadinessReport({ ...base, clients: refusedOne.slice(1) }).exitCode], [3, 0]);
  });
});

describe('plainClients', () => {
  const seen = (c: Partial<SeenConnection>): SeenConnection => ({ source: 'log', pid: 1, user: 'app', database: 'app', address: '10.0.0.5', replication: false, tls: false, gssEncrypted: false, ...c });
  it('groups by role, database, address, application; TLS clients are left out; first and last by time', () => {
    const clients = plainClients([
      seen({ time: '2024-05-01 10:00:05.000 UTC' }),
      seen({ time: '2024-05-01 10:00:01.000 UTC' }),
      seen({ tls: true }),
      seen({ source: 'session', time: '2024-05-01T10:00:09Z', lastTime: '2024-05-01T10:05:00Z' }),
      seen({ address: '10.0.0.6' }),
    ]);
    assert.deepEqual(
      clients.map((c) => [c.address, c.count, c.firstSeen, c.lastSeen, c.sources]),
      [
        ['10.0.0.5', 3, '2024-05-01 10:00:01.000 UTC', '2024-05-01T10:05:00Z', ['log', 'session']],
        ['10.0.0.6', 1, undefined, undefined, ['log']],
      ],
    );
  });
});

describe('log_connections: what is logged and the one statement that turns it on', () => {
  const cases: [number, string, boolean, string[] | undefined][] = [
    [12, 'off', false, ['ALTER SYSTEM SET log_connections = on;', 'SELECT pg_reload_conf();']],
    [17, 'on', false, undefined],
    [18, 'on', false, undefined],
    [18, 'all', false, undefined],
    [18, '', false, ["ALTER SYSTEM SET log_connections = 'receipt,authorization';", 'SELECT pg_reload_conf();']],
    [18, 'setup_durations', false, ["ALTER SYSTEM SET log_connections = 'setup_durations,receipt,authorization';", 'SELECT pg_reload_conf();']],
    [18, 'authorization', false, ["ALTER SYSTEM SET log_connections = 'authorization,receipt';", 'SELECT pg_reload_conf();']],
    // The address is on every entry with %h/%r: authorization alone is enough.
    [18, 'authorization', true, undefined],
  ];
  for (const [major, value, host, expected] of cases) it(`${major}: ${JSON.stringify(value)}${host ? ' with %h' : ''}`, () => assert.deepEqual(logConnectionsState(major, value, host).turnOn, expected));
  it('%h/%r in the prefix, not %%h', () => assert.deepEqual(['%m [%p] %h', '%r', '%-10h', '100%%h %p'].map(prefixNamesHost), [true, true, true, false]));
});

describe('--for', () => {
  const cases: [string, number | undefined][] = [['0', 0], ['90', 90], ['90s', 90], ['15m', 900], ['2h', 7200], ['1.5m', undefined], ['-1', undefined], ['soon', undefined], ['', undefined]];
  for (const [text, seconds] of cases) it(JSON.stringify(text), () => assert.equal(parseDuration(text), seconds));
});
