import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateHba, type ConnectionAttempt } from '../../src/hba/evaluate.js';
import type { HbaRule } from '../../src/hba/model.js';
import { parseHbaText } from '../../src/hba/parse.js';

const rulesOf = (text: string, major = 18) => parseHbaText(text, { path: 'pg_hba.conf', major }).records.filter((r): r is HbaRule => r.kind === 'rule');

const hba = rulesOf(
  [
    'local   all        postgres                  peer',
    'local   all        all                       md5',
    'hostssl app        alice     10.0.0.0/8      scram-sha-256',
    'hostnossl all      bob       10.0.0.0/8      md5',
    'host    sales      +team     10.1.0.0/16     md5',
    'host    all        all       10.1.2.3/32     reject',
    'host    replication repl     192.0.2.0/24    scram-sha-256',
    'host    sameuser   all       192.168.0.0 255.255.0.0 md5',
    'host    "all"      all       172.16.0.0/12   md5',
    'host    /^rep_     all       198.51.100.0/24 md5',
    'host    all        all       fe80::/10       md5',
    'host    all        all       .corp.example   md5',
    '',
  ].join('\n'),
);

function check(attempt: Partial<ConnectionAttempt>, expectedLine: number | undefined, verdict: 'allow' | 'reject', regularExpressions = true) {
  const result = evaluateHba(hba, { local: false, ssl: false, database: 'app', user: 'alice', ...attempt } as ConnectionAttempt, { regularExpressions });
  assert.equal(result.rule?.line, expectedLine);
  assert.equal(result.verdict, verdict);
  return result;
}

describe('evaluateHba: first match wins, no match rejects', () => {
  it('local socket: first local rule that names the user', () => {
    check({ local: true, user: 'postgres', database: 'x' }, 1, 'allow');
    check({ local: true, user: 'alice' }, 2, 'allow');
  });
  it('hostssl matches only TLS, hostnossl only plain', () => {
    check({ address: '10.9.9.9', ssl: true }, 3, 'allow');
    check({ address: '10.9.9.9', ssl: false }, undefined, 'reject');
    check({ address: '10.9.9.9', user: 'bob', database: 'x' }, 4, 'allow');
    check({ address: '10.9.9.9', user: 'bob', database: 'x', ssl: true }, undefined, 'reject');
  });
  it('+group needs membership; a reject rule rejects', () => {
    check({ address: '10.1.9.9', user: 'carol', database: 'sales', memberOf: ['team'] }, 5, 'allow');
    check({ address: '10.1.9.9', user: 'dave', database: 'sales' }, undefined, 'reject');
    check({ address: '10.1.2.3', user: 'dave', database: 'sales' }, 6, 'reject');
  });
  it('replication keyword matches only physical walsenders, and they match nothing else', () => {
    check({ address: '192.0.2.7', user: 'repl', database: 'replication', physicalReplication: true }, 7, 'allow');
    check({ address: '192.0.2.7', user: 'repl', database: 'replication' }, undefined, 'reject');
    check({ address: '172.16.0.1', user: 'repl', database: 'x', physicalReplication: true }, undefined, 'reject');
  });
  it('sameuser, netmask columns, a quoted "all" as a plain name', () => {
    check({ address: '192.168.4.4', user: 'erin', database: 'erin' }, 8, 'allow');
    check({ address: '192.168.4.4', user: 'erin', database: 'other' }, undefined, 'reject');
    check({ address: '172.20.0.1', user: 'erin', database: 'all' }, 9, 'allow');
    check({ address: '172.20.0.1', user: 'erin', database: 'db' }, undefined, 'reject');
  });
  it('regular expressions from 16 on; before, a literal name', () => {
    check({ address: '198.51.100.1', database: 'rep_2025' }, 10, 'allow');
    check({ address: '198.51.100.1', database: 'rep_2025' }, undefined, 'reject', false);
  });
  it('IPv6 ranges and host-name suffixes; unknown host names are reported as uncertain', () => {
    check({ address: 'fe80::1', database: 'x' }, 11, 'allow');
    check({ address: '203.0.113.9', database: 'x', hostname: 'db.corp.example' }, 12, 'allow');
    const result = check({ address: '203.0.113.9', database: 'x' }, undefined, 'reject');
    assert.deepEqual(result.uncertain.map((r) => r.line), [12]);
  });
});
