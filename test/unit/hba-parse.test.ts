import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHbaText } from '../../src/hba/parse.js';
import { ipv4Dotted, parseIPv4 } from '../../src/hba/addresses.js';
import { loadHba, type FileReader } from '../../src/hba/load.js';
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
        // Line 0: about the whole file (no rules), as the server reports it, without a line.
        assert.ok(first.line === 0 ? first.column === 0 : first.column >= 1);
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

describe('IPv4 as getaddrinfo(AI_NUMERICHOST) reads it on glibc (each form checked against the server, see the oracle fixtures)', () => {
  const accepted: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['10.1', '10.0.0.1'],
    ['10.1.2', '10.1.0.2'],
    ['10', '0.0.0.10'],
    ['0', '0.0.0.0'],
    ['00', '0.0.0.0'],
    ['010.0.0.1', '8.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0X7F000001', '127.0.0.1'],
    ['0xA.0X1', '10.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['017777777777', '127.255.255.255'],
    ['4294967295', '255.255.255.255'],
    ['10.65535', '10.0.255.255'],
    ['10.16777215', '10.255.255.255'],
    ['255.255', '255.0.0.255'],
  ];
  for (const [text, dotted] of accepted) it(`${text} is ${dotted}`, () => assert.equal(ipv4Dotted(parseIPv4(text)!), dotted));
  const refused = ['', '08.1', '09', '0x', '0x.1', '10.1.', '.10.1', '1.2.3.4.5', '10.0.0.256', '10.1.65536', '10.16777216', '4294967296', '0x100000000', '256.1', '+1.2.3.4', ' 10.0.0.1', '10.0.0.1 ', '10.0.0.1x', 'example.com', '::1'];
  for (const text of refused) it(`${JSON.stringify(text)} is not an IPv4 address`, () => assert.equal(parseIPv4(text), undefined));
});

describe('addresses as the server reads them', () => {
  const rules = (text: string) => parseHbaText(text, { path: '/etc/pg_hba.conf', major: 18 }).records.filter((r): r is HbaRule => r.kind === 'rule');
  it('reads IPv4 shorthand as an address (kept as written in text), loopback when it is 127/8', () => {
    const [a, b, c] = rules('host all all 127.1/32 md5\nhost all all 10.1/16 md5\nhost all all 0x7f.1 255.255.255.255 md5\n');
    assert.deepEqual(a.address, { kind: 'ip', text: '127.1/32', ip: '127.0.0.1', family: 4, prefix: 32 });
    assert.equal(a.loopbackOnly, true);
    assert.deepEqual(b.address, { kind: 'ip', text: '10.1/16', ip: '10.0.0.1', family: 4, prefix: 16 });
    assert.equal(b.loopbackOnly, false);
    assert.deepEqual(c.address, { kind: 'ip', text: '0x7f.1 255.255.255.255', ip: '127.0.0.1', family: 4, prefix: 32, netmask: '255.255.255.255' });
  });
  it('reads the CIDR prefix as strtol does: a sign and leading zeros, nothing after the digits', () => {
    assert.deepEqual(rules('host all all 10.0.0.0/+8 md5\nhost all all 10.0.0.0/08 md5\nhost all all 0.0.0.0/-0 reject\n').map((r) => r.address?.kind === 'ip' && r.address.prefix), [8, 8, 0]);
    for (const bad of ['10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/33', '"10.0.0.0/8 "', '10.0.0.0/8x']) {
      assert.match(parseHbaText(`host all all ${bad} md5\n`, { path: 'x', major: 18 }).errors[0].message, /^invalid CIDR mask in address/, bad);
    }
  });
  it('takes quoted address keywords as the keywords (strcmp, not token_is_keyword)', () => {
    assert.deepEqual(rules('host all all "all" md5\nhost all all "samehost" md5\nhost all all "samenet" md5\n').map((r) => [r.address?.kind, r.loopbackOnly]), [
      ['all', false],
      ['samehost', true],
      ['samenet', false],
    ]);
  });
  it('refuses a numeric address without a netmask, which it used to take for a host name', () => {
    assert.equal(parseHbaText('host all all 127.1 md5\n', { path: 'x', major: 18 }).errors[0].message, 'invalid IP mask "md5"');
  });
});

describe('a file without rules', () => {
  const reader = (files: Record<string, string>): FileReader => ({
    read: (path) => {
      if (!(path in files)) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
      return files[path];
    },
    list: () => [],
  });
  it('is refused on every major, naming the file, the consequence and the fix', () => {
    for (const major of supportedMajors) {
      for (const text of ['', '\n', '# only a comment\n', '  \t\r\n']) {
        const { errors } = loadHba('/etc/pg_hba.conf', major, reader({ '/etc/pg_hba.conf': text }));
        assert.deepEqual(errors, [
          {
            file: '/etc/pg_hba.conf',
            line: 0,
            column: 0,
            message: `configuration file "/etc/pg_hba.conf" contains no entries: PostgreSQL ${major} refuses to start with it, and a reload keeps the previous rules; add at least one rule, e.g. "local all all peer"`,
          },
        ]);
      }
    }
  });
  it('counts the rules of included files (16+), and says so when they add none', () => {
    const files = { '/etc/pg_hba.conf': 'include rules.inc\n', '/etc/rules.inc': 'local all all peer\n', '/etc/empty.inc': '# none\n' };
    assert.deepEqual(loadHba('/etc/pg_hba.conf', 16, reader(files)).errors, []);
    const empty = loadHba('/etc/pg_hba.conf', 16, reader({ ...files, '/etc/pg_hba.conf': 'include empty.inc\ninclude_if_exists missing.inc\n' })).errors;
    assert.equal(empty.length, 1);
    assert.match(empty[0].message, /contains no entries \(the files it includes add none either\)/);
  });
  it('reports only the real errors of a file whose one line is invalid (the server does the same)', () => {
    const { errors } = loadHba('/etc/pg_hba.conf', 18, reader({ '/etc/pg_hba.conf': 'hots all all 10.0.0.0/8 md5\n' }));
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /^invalid connection type "hots"/);
  });
});
