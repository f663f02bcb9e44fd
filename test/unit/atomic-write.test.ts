/** writeFilesAtomic (src/files/atomicWrite.ts): several files, each replaced atomically, one folder fsync per folder. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeFilesAtomic } from '../../src/files/atomicWrite.js';
import { tempDir } from '../support/tempDir.js';

describe('writeFilesAtomic', () => {
  it('writes each file with its own mode, replacing what was there, and leaves no temp file', () => {
    const dir = tempDir('pgssl-atomic');
    writeFileSync(join(dir, 'a.key'), 'old key', { mode: 0o644 });
    writeFilesAtomic([
      { path: join(dir, 'a.key'), data: 'new key', options: { mode: 0o600 } },
      { path: join(dir, 'a.pk8'), data: Buffer.from([0x30, 0x00]), options: { mode: 0o600 } },
      { path: join(dir, 'a.crt'), data: 'certificate', options: { mode: 0o644 } },
    ]);
    assert.equal(readFileSync(join(dir, 'a.key'), 'utf8'), 'new key');
    assert.equal(statSync(join(dir, 'a.key')).mode & 0o777, 0o600, 'the replaced key narrowed to 0600');
    assert.deepEqual(readFileSync(join(dir, 'a.pk8')), Buffer.from([0x30, 0x00]));
    assert.equal(statSync(join(dir, 'a.crt')).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir).sort(), ['a.crt', 'a.key', 'a.pk8']);
  });
  it('stops at the first file it cannot write, naming it; the ones before it are written, none after, no temp file', () => {
    const dir = tempDir('pgssl-atomic');
    assert.throws(
      () =>
        writeFilesAtomic([
          { path: join(dir, 'first'), data: '1', options: { mode: 0o600 } },
          { path: join(dir, 'missing', 'second'), data: '2', options: { mode: 0o600 } },
          { path: join(dir, 'third'), data: '3', options: { mode: 0o600 } },
        ]),
      new RegExp(`could not write ${join(dir, 'missing', 'second')}: ENOENT`),
    );
    assert.deepEqual(readdirSync(dir), ['first']);
  });
});
