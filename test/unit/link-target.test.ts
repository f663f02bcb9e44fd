/** Writes go through symlinks to their target (defect 9): chains, relative links, dangling links. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { throughLinks } from '../../src/files/linkTarget.js';

it('follows chains and relative links to the file, and a dangling link to where the file would be', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pgssl-links-')));
  try {
    mkdirSync(join(dir, 'etc'));
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'hba.conf'), '');
    symlinkSync('../conf.d/hba.conf', join(dir, 'etc', 'middle'));
    symlinkSync(join(dir, 'etc', 'middle'), join(dir, 'etc', 'pg_hba.conf'));
    symlinkSync('missing.crt', join(dir, 'etc', 'server.crt'));
    assert.equal(throughLinks(join(dir, 'etc', 'pg_hba.conf')), join(dir, 'conf.d', 'hba.conf'));
    assert.equal(throughLinks(join(dir, 'etc', 'server.crt')), join(dir, 'etc', 'missing.crt'));
    assert.equal(throughLinks(join(dir, 'etc', 'new.key')), join(dir, 'etc', 'new.key'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
