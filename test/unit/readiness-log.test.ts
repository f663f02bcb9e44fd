/**
 * Log connection entries as real servers write them (12–18, stderr with two
 * prefixes, csvlog, jsonlog 15+; captured by scripts/capture-readiness-logs.mjs
 * into test/fixtures/readiness), parsed and joined by PID into connections.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConnectionMessage } from '../../src/readiness/connectionMessages.js';
import { connectionsFromLog } from '../../src/readiness/logConnections.js';
import { logRecords, prefixPattern, stderrRecords, type LogFormat } from '../../src/readiness/logRecords.js';
import { repoRoot } from '../support/pgbin.js';

const fixtures = join(repoRoot, 'test/fixtures/readiness');
const prefixes: Record<string, string> = { '': '%m [%p] ', '-prefix': '%m [%p] %q%u@%d %r ' };
const formats: [string, LogFormat][] = [['.log', 'stderr'], ['.csv', 'csvlog'], ['.json', 'jsonlog']];

describe('connections in real logs, every major and format', () => {
  for (const major of [12, 13, 14, 15, 16, 17, 18]) {
    for (const [label, prefix] of Object.entries(prefixes)) {
      for (const [ext, format] of formats) {
        if (format === 'jsonlog' && major < 15) continue;
        const name = `pg${major}${label}${ext}`;
        it(`${name}: plain from .2, TLS from .3, a physical walsender from .4`, () => {
          const seen = connectionsFromLog(logRecords(format, readFileSync(join(fixtures, name), 'utf8'), prefix));
          assert.deepEqual(
            seen.map((c) => ({ address: c.address, user: c.user, database: c.database, application: c.application, replication: c.replication, tls: c.tls })),
            [
              { address: '127.0.0.2', user: 'postgres', database: 'postgres', application: 'app x', replication: false, tls: false },
              { address: '127.0.0.3', user: 'postgres', database: 'postgres', application: 'app x', replication: false, tls: true },
              { address: '127.0.0.4', user: 'postgres', database: undefined, application: undefined, replication: true, tls: false },
            ],
          );
          assert.ok(seen.every((c) => c.time && /^2\d{3}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/.test(c.time)), 'times as logged');
          assert.equal(new Set(seen.map((c) => c.pid)).size, 3, 'one backend each');
        });
      }
    }
  }
});

describe('connection messages', () => {
  const cases: [string, ReturnType<typeof parseConnectionMessage>][] = [
    ['connection received: host=10.0.0.5 port=5432', { kind: 'received', host: '10.0.0.5' }],
    ['connection received: host=[local]', { kind: 'received', host: '[local]' }],
    ['connection received: host=db.example.com port=40000', { kind: 'received', host: 'db.example.com' }],
    [
      'connection authorized: user=app database=sales application_name=psql SSL enabled (protocol=TLSv1.2, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256, compression=off)',
      { kind: 'authorized', replication: false, user: 'app', database: 'sales', application: 'psql', tls: true, tlsVersion: 'TLSv1.2', gssEncrypted: false },
    ],
    ['connection authorized: user=app database=sales', { kind: 'authorized', replication: false, user: 'app', database: 'sales', application: undefined, tls: false, tlsVersion: undefined, gssEncrypted: false }],
    [
      'connection authorized: user=app database=sales application_name=my report tool GSS (authenticated=yes, encrypted=yes, principal=app@EXAMPLE.COM)',
      { kind: 'authorized', replication: false, user: 'app', database: 'sales', application: 'my report tool', tls: false, tlsVersion: undefined, gssEncrypted: true },
    ],
    ['replication connection authorized: user=repl application_name=walreceiver', { kind: 'authorized', replication: true, user: 'repl', database: undefined, application: 'walreceiver', tls: false, tlsVersion: undefined, gssEncrypted: false }],
    // Captured from 18 with log_connections = 'all' (setup_durations): not a connection of its own.
    ['connection ready: setup total=41.281 ms, fork=0.841 ms, authentication=0.477 ms', undefined],
    ['connexion autorisée : utilisateur=app base de données=sales', undefined],
    ['connection authenticated: user="app" method=scram-sha-256 (/etc/postgresql/16/main/pg_hba.conf:7)', undefined],
  ];
  for (const [message, expected] of cases) it(message, () => assert.deepEqual(parseConnectionMessage(message), expected));
});

describe('log_line_prefix as a pattern', () => {
  const cases: [string, string, { pid: number; host?: string; user?: string; database?: string; time?: string } | undefined][] = [
    ['%t [%p]: ', '2024-05-01 10:00:00 UTC [42]: LOG:  connection received: host=10.0.0.5 port=1', { pid: 42, time: '2024-05-01 10:00:00 UTC' }],
    // Debian's default.
    ['%m [%p] %q%u@%d ', '2024-05-01 10:00:00.123 CEST [42] app@sales LOG:  connection authorized: user=app database=sales', { pid: 42, user: 'app', database: 'sales', time: '2024-05-01 10:00:00.123 CEST' }],
    ['%m [%p] %q%u@%d ', '2024-05-01 10:00:00.123 CEST [7] LOG:  checkpoint starting: time', { pid: 7, time: '2024-05-01 10:00:00.123 CEST' }],
    ['%m %h [%-8p] ', '2024-05-01 10:00:00.123 UTC 10.0.0.5 [42      ] LOG:  x', { pid: 42, host: '10.0.0.5', time: '2024-05-01 10:00:00.123 UTC' }],
    ['<%r %a %p> ', '<10.0.0.5(5555) my app 42> LOG:  x', { pid: 42, host: '10.0.0.5' }],
    ['100%% %p ', '100% 42 LOG:  x', { pid: 42 }],
    ['%n|%p|', '1714557600.500|42|LOG:  x', { pid: 42, time: '2024-05-01T10:00:00.500Z' }],
  ];
  for (const [prefix, line, expected] of cases) {
    it(`${JSON.stringify(prefix)}`, () => {
      const [record] = stderrRecords(line, prefix);
      assert.deepEqual(record && { pid: record.pid, host: record.host, user: record.user, database: record.database, time: record.time }, expected && { host: undefined, user: undefined, database: undefined, time: undefined, ...expected });
    });
  }
  it('a prefix without %p gives no pattern (entries cannot be joined)', () => assert.equal(prefixPattern('%m '), undefined));
});

describe('joining by PID', () => {
  it('a reused PID pairs each authorized entry with its own receipt, and tab-continued lines are skipped', () => {
    const text = [
      '2024-05-01 10:00:00.000 UTC [42] LOG:  connection received: host=10.0.0.5 port=1',
      '2024-05-01 10:00:00.010 UTC [42] LOG:  connection authorized: user=a database=x',
      '2024-05-01 10:00:01.000 UTC [42] LOG:  connection received: host=10.0.0.6 port=2',
      '2024-05-01 10:00:01.000 UTC [43] LOG:  connection received: host=[local]',
      '2024-05-01 10:00:01.010 UTC [43] LOG:  connection authorized: user=a database=x',
      '2024-05-01 10:00:01.020 UTC [42] LOG:  connection authorized: user=b database=y',
      '\tconnection authorized: user=c database=z',
    ].join('\n');
    const seen = connectionsFromLog(stderrRecords(text, '%m [%p] '));
    assert.deepEqual(seen.map((c) => [c.pid, c.address, c.user]), [[42, '10.0.0.5', 'a'], [42, '10.0.0.6', 'b']]);
  });
  it('an authorized entry without receipt and without %h has no address', () => {
    const seen = connectionsFromLog(stderrRecords('2024-05-01 10:00:00.010 UTC [42] LOG:  connection authorized: user=a database=x', '%m [%p] '));
    assert.equal(seen[0].address, undefined);
  });
  it('csvlog fields may hold quotes and newlines', () => {
    const text = '2024-05-01 10:00:00.000 UTC,"we""ird","db",42,"10.0.0.5:1",s,1,"",x,,0,LOG,00000,"connection authorized: user=we""ird database=db application_name=two\nlines",,,,,,,,,""\n';
    const seen = connectionsFromLog(logRecords('csvlog', text, ''));
    assert.deepEqual(seen.map((c) => [c.user, c.address, c.application]), [['we"ird', '10.0.0.5', 'two\nlines']]);
  });
});
