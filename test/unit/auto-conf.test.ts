/** The configuration-file syntax of postgresql.auto.conf (the byte-for-byte comparison with ALTER SYSTEM is in test/integration/auto-conf.test.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { autoConfHeader, autoConfLine, parseAutoConf, resetAllAutoConf, resetInAutoConf, sameSettingName, setInAutoConf } from '../../src/server/autoConf.js';

describe('parseAutoConf', () => {
  const cases: [string, string, { name: string; value: string }[]][] = [
    ['quoted, with doubled quote and escapes', "a = 'x''y\\\\z\\n\\q'", [{ name: 'a', value: "x'y\\z\nq" }]],
    ['octal escapes, at most three digits', "a = '\\1011'", [{ name: 'a', value: 'A1' }]],
    ['no equals sign', 'work_mem 4MB', [{ name: 'work_mem', value: '4MB' }]],
    ['a custom (qualified) name', 'pgssl.note = hello', [{ name: 'pgssl.note', value: 'hello' }]],
    ['an unquoted path-like string', 'ssl_ciphers = HIGH:MEDIUM', [{ name: 'ssl_ciphers', value: 'HIGH:MEDIUM' }]],
    ['reals, hex and signs', 'a = -1.5e3\nb = 0x1F\nc = +7kB', [{ name: 'a', value: '-1.5e3' }, { name: 'b', value: '0x1F' }, { name: 'c', value: '+7kB' }]],
    ['comments, blank lines, CR', "# c\n\r\n  x = 'y' # z\r\n", [{ name: 'x', value: 'y' }]],
    ['no newline at the end', "x = 'y'", [{ name: 'x', value: 'y' }]],
    ['UTF-8 values and names', "clé = 'süß'", [{ name: 'clé', value: 'süß' }]],
  ];
  for (const [title, text, expected] of cases) it(title, () => assert.deepEqual(parseAutoConf(text), expected));

  const refused: [string, string, RegExp][] = [
    ['a dotted word as a value (flex picks QUALIFIED_ID, which is no value)', 'ssl_ca_file = root.crt', /:1: syntax error in the value of "ssl_ca_file"/],
    ['an unterminated string', "\n\nx = 'abc", /:3: syntax error/],
    ['two values', "x = 'a' 'b'", /:1: syntax error in the value of "x"/],
    ['a value without a name', "= 'a'", /:1: syntax error near "="/],
    ['an include directive', "include 'other.conf'", /:1: an include directive in postgresql\.auto\.conf/],
    ['a character the lexer does not know', 'x = a!b', /:1: syntax error/],
  ];
  for (const [title, text, message] of refused) {
    it(`refuses ${title}`, () => assert.throws(() => parseAutoConf(text, '/d/postgresql.auto.conf'), (e) => e instanceof UsageError && message.test(e.message) && e.message.startsWith('/d/postgresql.auto.conf:')));
  }
});

describe('setInAutoConf / resetInAutoConf', () => {
  it('writes the header even when the file had none', () => {
    assert.equal(setInAutoConf('', 'ssl', 'on').toString(), `${autoConfHeader}ssl = 'on'\n`);
  });
  it('keeps non-UTF-8 bytes of other entries as they were', () => {
    const file = Buffer.concat([Buffer.from(`${autoConfHeader}ssl_key_file = '`), Buffer.from([0xe9]), Buffer.from("'\n")]);
    assert.ok(resetInAutoConf(file, 'ssl').equals(file));
  });
  it('reset all is the header alone', () => assert.equal(resetAllAutoConf().toString(), autoConfHeader));
  it('doubles quotes and backslashes only', () => assert.equal(autoConfLine('a', "'\\\t%"), "a = '''\\\\\t%'\n"));
  it('compares names ASCII case-insensitively, nothing more', () => {
    assert.ok(sameSettingName('Work_Mem', 'work_mem'));
    assert.ok(!sameSettingName('work_mem', 'work_mem2'));
    assert.ok(!sameSettingName('clÉ', 'clé'));
  });
});
