/**
 * The 100k-rule design keeps fast paths beside the general ones (byte-level
 * IPv4 parsing, a rule's facts in columns, output streamed through a window).
 * Each must agree with the general path it shortcuts.
 */
import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import { isIPv4Text, isLoopbackOnly } from '../../src/hba/addresses.js';
import { ipv4CidrBytes } from '../../src/hba/fields.js';
import { loadHba, type FileReader } from '../../src/hba/load.js';
import type { HbaRule } from '../../src/hba/model.js';
import { parseHbaText } from '../../src/hba/parse.js';
import { planRewrite } from '../../src/hba/rewrite.js';
import { supportedMajors } from '../../src/hba/syntax.js';
import { appliesTo, generatedHba, hbaFixtures } from '../support/hbaFixtures.js';

const addressLike = [
  '0.0.0.0', '1.2.3.4', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.02.3.4', '1.2.3', '1.2.3.4.5', '1..3.4', '.1.2.3',
  '1.2.3.4 ', '', '127.0.0.1', '1.2.3.04', '10.0.0.0', 'a.b.c.d', '1.2.3.255', '1.2.3.256', '999.1.1.1', '00.0.0.0', '0.0.0.00',
];

describe('isIPv4Text agrees with node:net isIPv4', () => {
  it('on hand-picked cases', () => {
    for (const text of addressLike) assert.equal(isIPv4Text(text), isIPv4(text), JSON.stringify(text));
  });
  it('on 20,000 random strings of digits and dots', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const length = 1 + Math.floor(random() * 16);
      for (let i = 0; i < length; i++) text += '0123456789..'[Math.floor(random() * 12)];
      assert.equal(isIPv4Text(text), isIPv4(text), JSON.stringify(text));
    }
  });
});

describe('byte-level a.b.c.d/n is a subset of the general address parse', () => {
  const prefixes = ['', '/', '/0', '/8', '/08', '/32', '/33', '/7', '/100', '/x', '/1/2'];
  for (const base of addressLike) {
    it(JSON.stringify(base), () => {
      for (const prefix of prefixes) {
        const token = base + prefix;
        if (token === '' || /\s/.test(token)) continue;
        const fast = ipv4CidrBytes(Buffer.from(token), 0, token.length);
        const [rule] = parseHbaText(`host all all ${token} md5\n`, { path: 'x', major: 18 }).records as HbaRule[];
        if (fast === -1) continue;
        assert.ok(rule, `${token}: accepted by the fast path, so the general parse must accept it`);
        const address = rule.address!;
        assert.equal(address.kind, 'ip');
        assert.equal(fast & 0xff, address.kind === 'ip' ? address.prefix : NaN, token);
        assert.equal(fast >> 8, Number(token.split('.')[0]), token);
        assert.equal(rule.loopbackOnly, isLoopbackOnly(address), token);
      }
    });
  }
});

describe("a rule's columns agree with its details parsed again", () => {
  for (const fixture of hbaFixtures('passing')) {
    it(fixture.name, () => {
      for (const major of supportedMajors) {
        if (appliesTo(fixture, major)) continue;
        for (const rule of loadHba(fixture.path, major).rules) {
          assert.equal(rule.loopbackOnly, isLoopbackOnly(rule.address), `${rule.file}:${rule.line} on ${major}`);
          assert.equal(rule.typeToken.value, rule.type === 'local' || rule.typeToken.quoted ? rule.typeToken.value : rule.type);
          assert.ok(rule.raw.length > 0 && rule.lineCount >= 1);
        }
      }
    });
  }
});

describe('bytes, not characters', () => {
  const text = '# résumé: naïve 🔒 comment\nhost  all  "rôle" 10.0.0.0/8 md5 # é\nhost all all 10.1.0.0/16 md5\n';
  it('reads UTF-8 names and rewrites around multi-byte characters', () => {
    const parsed = parseHbaText(text, { path: 'x', major: 18 });
    const rules = parsed.records as HbaRule[];
    assert.equal(rules[0].users[0].value, 'rôle');
    assert.equal(rules[0].raw, 'host  all  "rôle" 10.0.0.0/8 md5 # é\n');
    const reader: FileReader = { read: () => text, list: () => [] };
    const result = planRewrite(loadHba('/x', 18, reader));
    assert.equal(result.files[0].after, text.replace('host  all', 'hostssl all').replace('host all all 10.1', 'hostssl all all 10.1'));
    assert.deepEqual(result.changes.map((c) => c.before), ['host  all  "rôle" 10.0.0.0/8 md5 # é', 'host all all 10.1.0.0/16 md5']);
  });
  it('reports columns in characters', () => {
    const { errors } = parseHbaText('host "é" "ü" 10.0.0.0/8 bogus\n', { path: 'x', major: 18 });
    assert.equal(errors[0].column, 25);
  });
});

describe('the streamed result equals the whole one', () => {
  it('on a generated file with long untouched stretches', () => {
    const filler = `${'#'.repeat(70)}\n`.repeat(200);
    const text = `${filler}${generatedHba(3000)}${filler}host all all 10.9.0.0/16 md5\n${filler}`;
    const reader: FileReader = { read: () => text, list: () => [] };
    const plan = planRewrite(loadHba('/x', 18, reader));
    const [file] = plan.files;
    const pieces: Buffer[] = [];
    file.stream((bytes, length) => pieces.push(Buffer.from(bytes.subarray(0, length))));
    const streamed = Buffer.concat(pieces);
    // Built independently: line by line, each planned line replaced by its "after".
    const afterByLine = new Map(plan.changes.map((c) => [c.line, c.after]));
    const expected = text.split('\n').map((line, i) => afterByLine.get(i + 1) ?? line).join('\n');
    assert.equal(plan.changes.length, 3001);
    assert.equal(plan.changeCount, 3001);
    assert.equal(streamed.toString(), expected);
    assert.ok(streamed.equals(file.afterBytes));
  });
  it('edits a file included twice once', () => {
    const files: Record<string, string> = { '/a/pg_hba.conf': 'include extra.conf\ninclude extra.conf\n', '/a/extra.conf': 'host all all 10.0.0.0/8 md5\n' };
    const reader: FileReader = { read: (path) => files[path], list: () => [] };
    const result = planRewrite(loadHba('/a/pg_hba.conf', 18, reader));
    assert.equal(result.files.length, 1);
    assert.equal(result.files[0].after, 'hostssl all all 10.0.0.0/8 md5\n');
  });
});
