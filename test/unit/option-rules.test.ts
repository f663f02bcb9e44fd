import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDnsName, optionProblems, optionProblemsMessage } from '../../src/commands/optionRules.js';

describe('option rules: each flag, accepted and refused values', () => {
  // [flag, value, accepted]
  const cases: [string, string, boolean][] = [
    ['--days', '1', true],
    ['--days', '397', true],
    ['--days', '3650', true],
    ['--days', '0', false], // an already expired certificate
    ['--days', '3651', false],
    ['--days', '99999999', false], // past 9999-12-31: X.509 cannot encode it
    ['--days', 'abc', false],
    ['--days', '', false],
    ['--days', '-5', false],
    ['--days', '1.5', false],
    ['--days', '1e3', false],
    ['--days', ' 30', false],
    ['--walsender-wait', '0', true],
    ['--walsender-wait', '3600', true],
    ['--walsender-wait', '3601', false],
    ['--walsender-wait', 'x', false],
    ['--confirm-within', '5', true],
    ['--confirm-within', '300', true],
    ['--confirm-within', '86400', true],
    ['--confirm-within', '4', false], // no new session logs in and confirms that fast
    ['--confirm-within', '0', false],
    ['--confirm-within', '86401', false],
    ['--confirm-within', '5m', false],
    ['--expiry-warn-days', '0', true],
    ['--expiry-warn-days', '3650', true],
    ['--expiry-warn-days', '3651', false],
    ['--expiry-warn-days', 'x', false],
    ['--renew-within', '0', true],
    ['--renew-within', '3650', true],
    ['--renew-within', '3651', false],
    ['--renew-within', '30d', false],
    ['--pg-major', '12', true],
    ['--pg-major', '18', true],
    ['--pg-major', '11', false],
    ['--pg-major', '19', false],
    ['--pg-major', '16.2', false],
    ['--port', '1', true],
    ['--port', '65535', true],
    ['--port', '0', false],
    ['--port', '65536', false],
    ['--port', 'abc', false],
    ['--rsa-bits', '3072', true],
    ['--rsa-bits', '1024', false],
    ['--min-tls', '1.3', true],
    ['--min-tls', '1.1', false],
    ['--san', 'db1', true],
    ['--san', 'db1.example.com', true],
    ['--san', 'DB-1.Example.COM', true],
    ['--san', '*.example.com', true],
    ['--san', 'xn--bcher-kva.example', true],
    ['--san', '10.0.0.5', true],
    ['--san', '::1', true],
    ['--san', '2001:db8::5', true],
    ['--san', 'DNS:db1.example.com', true],
    ['--san', 'dns:db1', true],
    ['--san', 'IP:192.168.1.10', true],
    ['--san', 'IP:2001:db8::5', true],
    ['--san', 'bad name', false],
    ['--san', '300.1.1.1', false], // not an address, and an all-numeric top label is not a name
    ['--san', '1.2.3', false],
    ['--san', '-x', false],
    ['--san', 'x-', false],
    ['--san', 'a..b', false],
    ['--san', 'db1.example.com.', false],
    ['--san', '*', false],
    ['--san', 'db*.example.com', false],
    ['--san', 'a.*.example.com', false],
    ['--san', '*.*.example.com', false],
    ['--san', 'under_score.example.com', false],
    ['--san', 'bücher.example', false], // IDNs go in as their xn-- form
    ['--san', `${'a'.repeat(64)}.example.com`, false],
    ['--san', 'fe80::1%eth0', false],
    ['--san', 'IP:db1.example.com', false],
    ['--san', 'DNS:10.0.0.5', false],
    ['--san', 'DNS:', false],
    ['--san', 'URI:https://x', false],
    ['--addr', '10.1.2.3', true],
    ['--addr', '::1', true],
    ['--addr', '10.1.2', false],
    ['--addr', 'db1', false],
  ];
  for (const [flag, value, accepted] of cases) {
    it(`${flag} ${JSON.stringify(value)} → ${accepted ? 'accepted' : 'refused'}`, () => {
      const problems = optionProblems('enable', { [flag]: value });
      if (accepted) assert.deepEqual(problems, []);
      else {
        assert.equal(problems.length, 1);
        const shown = /^[\w.:*@%/+-]+$/.test(value) ? value : JSON.stringify(value); // quoted only when not one word
        assert.ok(problems[0].startsWith(`${flag} ${shown}: `), problems[0]);
      }
    });
  }
});

describe('optionProblems', () => {
  it('reports every problem at once, every occurrence of a repeatable flag, and skips flags it has no rule for', () => {
    const problems = optionProblems('enable', {
      '--days': 'abc',
      '--san': ['db1.example.com', 'bad name', '300.1.1.1'],
      '--walsender-wait': 'x',
      '--cert-dir': '/any/path',
      '--yes': true,
      '--ca-file': undefined,
    });
    assert.deepEqual(problems, [
      '--days abc: expected a whole number of days from 1 to 3650',
      '--san "bad name": expected a DNS name (letters, digits, hyphens and dots, optionally *. first) or an IPv4/IPv6 address',
      '--san 300.1.1.1: expected a DNS name (letters, digits, hyphens and dots, optionally *. first) or an IPv4/IPv6 address',
      '--walsender-wait x: expected a whole number of seconds from 0 to 3600',
    ]);
  });
  it('quotes a value only when it is not one word', () => {
    assert.deepEqual(optionProblems('enable', { '--san': ['bad name', ''], '--days': '-5' }), [
      '--san "bad name": expected a DNS name (letters, digits, hyphens and dots, optionally *. first) or an IPv4/IPv6 address',
      '--san "": expected a DNS name (letters, digits, hyphens and dots, optionally *. first) or an IPv4/IPv6 address',
      '--days -5: expected a whole number of days from 1 to 3650',
    ]);
  });
  it('one message: the only problem alone, several under a count', () => {
    assert.equal(optionProblemsMessage(['--days 0: x']), '--days 0: x');
    assert.equal(optionProblemsMessage(['a', 'b']), '2 invalid options:\n  a\n  b');
  });
  it('a name is at most 253 characters', () => {
    const label = 'a'.repeat(63);
    assert.equal(isDnsName([label, label, label, 'a'.repeat(61)].join('.')), true); // 253
    assert.equal(isDnsName([label, label, label, 'a'.repeat(62)].join('.')), false); // 254
  });
});
