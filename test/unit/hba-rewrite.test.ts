import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { unifiedDiff } from '../../src/hba/diff.js';
import { loadHba, type FileReader } from '../../src/hba/load.js';
import type { HbaRule } from '../../src/hba/model.js';
import { parseHbaText } from '../../src/hba/parse.js';
import { planRewrite, ruleId, visualColumn, type RewriteOptions } from '../../src/hba/rewrite.js';
import { supportedMajors } from '../../src/hba/syntax.js';
import { appliesTo, hbaFixtures } from '../support/hbaFixtures.js';
import { tempDir } from '../support/tempDir.js';

const memoryReader = (files: Record<string, string>): FileReader => ({
  read: (path) => {
    if (!(path in files)) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    return files[path];
  },
  list: () => [],
});

function plan(text: string, options: RewriteOptions = {}, major = 18) {
  return planRewrite(loadHba('/etc/pg_hba.conf', major, memoryReader({ '/etc/pg_hba.conf': text })), options);
}

const shape = (rule: HbaRule) => ({
  line: rule.line,
  databases: rule.databases.map((t) => [t.value, t.quoted]),
  users: rule.users.map((t) => [t.value, t.quoted]),
  address: rule.address?.text,
  method: rule.method,
  options: rule.options,
});

describe('rewrite over every passing fixture and major', () => {
  for (const fixture of hbaFixtures('passing')) {
    it(fixture.name, () => {
      for (const major of supportedMajors) {
        if (appliesTo(fixture, major)) continue;
        const loaded = loadHba(fixture.path, major);
        const result = planRewrite(loaded);
        for (const file of result.files) {
          // Both sides without @file expansion: the comparison is about this file's bytes.
          const before = parseHbaText(file.before, { path: file.path, major }).records.filter((r): r is HbaRule => r.kind === 'rule');
          const after = parseHbaText(file.after, { path: file.path, major });
          assert.deepEqual(after.errors, [], `${fixture.name} on ${major}: the rewritten file parses`);
          const afterRules = after.records.filter((r): r is HbaRule => r.kind === 'rule');
          assert.equal(afterRules.length, before.length);
          const changedLines = new Set(result.changes.filter((c) => c.file === file.path).map((c) => c.line));
          afterRules.forEach((rule, i) => {
            assert.deepEqual(shape(rule), shape(before[i]), 'only the keyword changes');
            assert.equal(rule.type, changedLines.has(rule.line) ? 'hostssl' : before[i].type);
          });
          assert.equal(file.after.split('\n').length, file.before.split('\n').length, 'no line added or removed');
        }
        for (const change of result.changes) assert.equal(change.rule.type, 'host');
      }
    });
  }
});

describe('what is converted and what is kept', () => {
  const text = [
    'local all all trust',
    'host all all 127.0.0.1/32 trust',
    'host all all ::1/128 trust',
    'host all all localhost trust',
    'host all all samehost trust',
    'host all all 10.0.0.0/8 md5',
    'host replication repl 192.0.2.5/32 scram-sha-256',
    'host all all 192.0.2.66/32 reject',
    'hostssl all all 0.0.0.0/0 md5',
    'hostnossl all all 203.0.113.0/24 md5',
    'hostgssenc all all 0.0.0.0/0 md5',
    'host sales,hr +staff samenet md5',
    '',
  ].join('\n');
  it('converts remote host rules, replication included, and keeps the rest with a reason', () => {
    const result = plan(text);
    assert.deepEqual(result.changes.map((c) => c.line), [6, 7, 12]);
    const reasons = Object.fromEntries(result.kept.map((k) => [k.rule.line, k.reason]));
    assert.deepEqual(reasons, {
      1: 'local socket',
      2: 'loopback only',
      3: 'loopback only',
      4: 'loopback only',
      5: 'loopback only',
      8: 'reject rule',
      9: 'already hostssl',
      10: 'hostnossl',
      11: 'GSSAPI-encrypted',
    });
    assert.deepEqual(result.holes.map((h) => h.line), [10]);
  });
  it('--include-loopback converts the loopback rules too', () => {
    assert.deepEqual(plan(text, { includeLoopback: true }).changes.map((c) => c.line), [2, 3, 4, 5, 6, 7, 12]);
  });
  it('limits by database, user, address, replication and explicit deselection', () => {
    assert.deepEqual(plan(text, { skipReplication: true }).changes.map((c) => c.line), [6, 12]);
    assert.deepEqual(plan(text, { databases: ['sales'] }).changes.map((c) => c.line), [12]);
    assert.deepEqual(plan(text, { users: ['repl'] }).changes.map((c) => c.line), [7]);
    assert.deepEqual(plan(text, { addresses: ['10.0.0.0/8'] }).changes.map((c) => c.line), [6]);
    assert.deepEqual(plan(text, { exclude: new Set([ruleId({ file: '/etc/pg_hba.conf', line: 6 })]) }).changes.map((c) => c.line), [7, 12]);
  });
  it('changes nothing on a file that is already enforced', () => {
    const done = plan(text).files[0].after;
    const again = plan(done);
    assert.equal(again.changes.length, 0);
    assert.equal(again.files.length, 0);
  });
});

describe('alignment', () => {
  const secondColumn = (line: string) => visualColumn(line.slice(0, line.search(/(?<=^\s*\S+\s+)\S/)));
  const cases: [string, string][] = [
    ['host    all all 10.0.0.0/8 md5', 'hostssl all all 10.0.0.0/8 md5'],
    ['host\tall all 10.0.0.0/8 md5', 'hostssl\tall all 10.0.0.0/8 md5'],
    ['host \tall all 10.0.0.0/8 md5', 'hostssl\tall all 10.0.0.0/8 md5'],
    ['host  all all 10.0.0.0/8 md5', 'hostssl all all 10.0.0.0/8 md5'],
    ['host all all 10.0.0.0/8 md5', 'hostssl all all 10.0.0.0/8 md5'],
    ['  host      all all 10.0.0.0/8 md5', '  hostssl   all all 10.0.0.0/8 md5'],
    ['"host"     all all 10.0.0.0/8 md5', '"hostssl"  all all 10.0.0.0/8 md5'],
    // Any quoting is still the keyword: "ssl" goes after the last letter, every quote stays put.
    ['h"os"t     all all 10.0.0.0/8 md5', 'h"os"tssl  all all 10.0.0.0/8 md5'],
    ['"ho"st all all 10.0.0.0/8 md5', '"ho"stssl all all 10.0.0.0/8 md5'],
    ['host""\tall all 10.0.0.0/8 md5', 'hostssl""\tall all 10.0.0.0/8 md5'],
    ['"host"\tall all 10.0.0.0/8 md5', '"hostssl"\tall all 10.0.0.0/8 md5'],
  ];
  for (const [before, after] of cases) {
    it(JSON.stringify(before), () => {
      const result = plan(before + '\n');
      assert.equal(result.files[0].after, after + '\n');
      // Reachable when the padding has three blanks to give (a lone tab may not be).
      if (/^\s*\S+ {4,}/.test(before) || /^\s*host( \t|\t)/.test(before)) assert.equal(secondColumn(after), secondColumn(before), 'next column kept');
    });
  }
  it('keeps CRLF line endings and a missing final newline', () => {
    assert.equal(plan('host all all 10.0.0.0/8 md5\r\nlocal all all trust\r\n').files[0].after, 'hostssl all all 10.0.0.0/8 md5\r\nlocal all all trust\r\n');
    assert.equal(plan('host all all 10.0.0.0/8 md5').files[0].after, 'hostssl all all 10.0.0.0/8 md5');
  });
  it('rewrites a keyword split by a continuation (14+) where its last letter is, keeping the split', () => {
    const cases: [string, string][] = [
      ['ho\\\nst    all all 10.0.0.0/8 md5\n', 'ho\\\nstssl all all 10.0.0.0/8 md5\n'],
      ['ho\\\r\nst all all 10.0.0.0/8 md5\r\n', 'ho\\\r\nstssl all all 10.0.0.0/8 md5\r\n'],
      ['"ho\\\nst"  all all 10.0.0.0/8 md5\n', '"ho\\\nstssl" all all 10.0.0.0/8 md5\n'],
      ['"host\\\n"  all all 10.0.0.0/8 md5\n', '"hostssl\\\n"  all all 10.0.0.0/8 md5\n'],
    ];
    for (const [before, after] of cases) {
      const result = plan(before, {}, 14);
      assert.equal(result.files[0].after, after, JSON.stringify(before));
      const [change] = result.changes;
      assert.equal(change.line, 1);
      // The change shows every line the keyword spans, as written (without the last EOL).
      assert.equal(change.before, before.replace(/\r?\n$/, ''));
      assert.equal(change.after, after.replace(/\r?\n$/, ''));
    }
    // Before 14 the backslash is part of the token: no keyword, an error.
    assert.equal(loadHba('/etc/pg_hba.conf', 13, memoryReader({ '/etc/pg_hba.conf': cases[0][0] })).errors[0].line, 1);
  });
  it('leaves no host rule of the fixtures unconverted for want of an in-place edit', () => {
    for (const fixture of hbaFixtures('passing')) {
      for (const major of supportedMajors) {
        if (appliesTo(fixture, major)) continue;
        const stuck = planRewrite(loadHba(fixture.path, major)).kept.filter((k) => k.reason === 'keyword not rewritable in place');
        assert.deepEqual(stuck.map((k) => ruleId(k.rule)), [], `${fixture.name} on ${major}`);
      }
    }
  });
  it('rewrites a rule continued over lines (14+) on its first line only', () => {
    assert.equal(plan('host all all \\\n  10.0.0.0/8 md5\n', {}, 14).files[0].after, 'hostssl all all \\\n  10.0.0.0/8 md5\n');
  });
});

describe('unified diff', () => {
  it('is applied by GNU patch to give exactly the rewritten file', () => {
    const dir = tempDir('pgssl-diff');
    for (const fixture of hbaFixtures('passing')) {
      if (appliesTo(fixture, 18)) continue;
      for (const file of planRewrite(loadHba(fixture.path, 18)).files) {
        const target = join(dir, 'pg_hba.conf');
        writeFileSync(target, file.before);
        const diff = unifiedDiff('pg_hba.conf', file.before, file.after);
        execFileSync('patch', ['--quiet', '--binary', target], { input: diff, cwd: dir });
        assert.equal(readFileSync(target, 'utf8'), file.after, `${fixture.name}: ${file.path}`);
      }
    }
  });
  it('shows nothing when nothing changes', () => assert.equal(unifiedDiff('x', 'a\n', 'a\n'), ''));
});
