import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHbaText } from '../../src/hba/parse.js';
import { loadHba } from '../../src/hba/load.js';
import { serializeLines, splitPhysicalLines } from '../../src/hba/tokenize.js';
import { supportedMajors } from '../../src/hba/syntax.js';
import type { HbaRule } from '../../src/hba/model.js';
import { appliesTo, generatedHba, hbaFixtures } from '../support/hbaFixtures.js';

describe('round trip: serialize(parse(text)) === text', () => {
  const samples = [
    '',
    '\n',
    'local all all trust',
    'local all all trust\n',
    'a\r\nb\r\n',
    'a\r\nb\nc',
    '  \t  \n\n# x \t\n',
    'host all all 10.0.0.0/8 md5   \t\n',
    '\u00e9\u{1F512}\n',
    'x\r\r\n',
  ];
  for (const text of samples) {
    it(JSON.stringify(text), () => assert.equal(serializeLines(splitPhysicalLines(text)), text));
  }
  for (const fixture of [...hbaFixtures('passing'), ...hbaFixtures('failing')]) {
    it(`fixture ${fixture.name}`, () => {
      for (const major of supportedMajors) assert.equal(serializeLines(parseHbaText(fixture.text, { path: fixture.path, major }).lines), fixture.text);
    });
  }
});

describe('passing fixtures parse without error on every major they apply to', () => {
  for (const fixture of hbaFixtures('passing')) {
    it(fixture.name, () => {
      for (const major of supportedMajors) {
        if (appliesTo(fixture, major)) continue;
        const loaded = loadHba(fixture.path, major);
        assert.deepEqual(loaded.errors, [], `PostgreSQL ${major}`);
        assert.ok(loaded.rules.length > 0);
      }
    });
  }
});

describe('failing fixtures are refused with file, line and column', () => {
  for (const fixture of hbaFixtures('failing')) {
    it(fixture.name, () => {
      for (const major of supportedMajors) {
        if (appliesTo(fixture, major)) continue;
        const loaded = loadHba(fixture.path, major);
        assert.ok(loaded.errors.length > 0, `PostgreSQL ${major}: expected an error`);
        const first = loaded.errors[0];
        assert.equal(first.file, fixture.path);
        assert.equal(first.line, fixture.errorLine, `PostgreSQL ${major}: ${first.message}`);
        assert.ok(first.column >= 1);
      }
    });
  }
});

describe('parse details', () => {
  const rules = (text: string, major = 18) => parseHbaText(text, { path: '/etc/pg_hba.conf', major }).records.filter((r): r is HbaRule => r.kind === 'rule');

  it('reads quoted names, literal quotes and comma lists like PostgreSQL', () => {
    const [a, b] = rules('host "my db","all" "user, with comma" 10.0.0.0/8 md5\nhost all "say ""hi""" 10.0.0.0/8 md5\n');
    assert.deepEqual(a.databases.map((t) => [t.value, t.quoted]), [['my db', true], ['all', true]]);
    assert.deepEqual(a.users.map((t) => t.value), ['user, with comma']);
    assert.equal(b.users[0].value, 'say "hi"');
    // "db2 ," ends the field at the blank: db3 becomes the user, "all" the address (PostgreSQL agrees).
    const { errors } = parseHbaText('host db1,db2 ,  db3 all 10.0.0.0/8 md5\n', { path: 'x', major: 18 });
    assert.match(errors[0].message, /^invalid authentication method "10\.0\.0\.0\/8"/);
  });
  it('reads addresses with netmask columns, host names and keywords', () => {
    const [a, b, c] = rules('host all all 192.168.1.0 255.255.255.0 md5\nhost all all .example.com md5\nhost all all samenet md5\n');
    assert.deepEqual(a.address, { kind: 'ip', text: '192.168.1.0 255.255.255.0', ip: '192.168.1.0', family: 4, prefix: 24, netmask: '255.255.255.0' });
    assert.deepEqual(b.address, { kind: 'hostname', text: '.example.com', hostname: '.example.com' });
    assert.equal(c.address?.kind, 'samenet');
  });
  it('keeps name=value options with quoted values', () => {
    const [rule] = rules('host all all 10.0.0.0/8 ldap ldapserver=ldap ldapbasedn="dc=example, dc=com"\n');
    assert.deepEqual(rule.options, [
      { name: 'ldapserver', value: 'ldap' },
      { name: 'ldapbasedn', value: 'dc=example, dc=com' },
    ]);
  });
  it('joins continuation lines from 14 on and numbers the record by its first line', () => {
    const text = '# c\nhost all all \\\n  10.0.0.0/8 md5\nlocal all all trust\n';
    const [rule, local] = rules(text, 14);
    assert.equal(rule.line, 2);
    assert.equal(rule.lineCount, 2);
    assert.equal(local.line, 4);
    assert.ok(parseHbaText(text, { path: 'x', major: 13 }).errors.length > 0, '13 has no continuations');
  });
  it('names file, line, column and what was expected', () => {
    const { errors } = parseHbaText('local all all trust\n  host all all 10.0.0.0/8 md5 foo\n', { path: '/etc/pg_hba.conf', major: 16 });
    assert.deepEqual(errors, [{ file: '/etc/pg_hba.conf', line: 2, column: 31, message: 'authentication option not in name=value format: foo' }]);
  });
  it('refuses tokens over 255 bytes before 16, accepts them from 16', () => {
    const text = `host ${'d'.repeat(300)} all 10.0.0.0/8 md5\n`;
    assert.match(parseHbaText(text, { path: 'x', major: 15 }).errors[0].message, /token too long/);
    assert.deepEqual(parseHbaText(text, { path: 'x', major: 16 }).errors, []);
  });
  it('parses a 10k-rule file', () => {
    const loaded = parseHbaText(generatedHba(10_000), { path: 'x', major: 18 });
    assert.deepEqual(loaded.errors, []);
    assert.equal(loaded.records.length, 10_002);
  });
});
