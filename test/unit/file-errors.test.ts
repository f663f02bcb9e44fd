/** Every file-system error is an OperationalError naming the path, the cause and the fix — never "a bug in pgssl". */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExitCode, OperationalError, UsageError } from '../../src/errors.js';
import { fileErrorCodes, fileSystemError, mountPointOf, withFileErrors } from '../../src/files/fileErrors.js';

/** An error shaped as Node's fs throws it (code, path, "CODE: text, syscall 'path'"). */
function nodeError(code: string, path: string, text: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${text}, open '${path}'`), { code, path, syscall: 'open', errno: -1 });
}

describe('fileSystemError', () => {
  const path = '/etc/postgresql/15/main/pg_hba.conf';
  const cases: [string, string, RegExp, RegExp][] = [
    ['EACCES', 'permission denied', /permission denied: the OS user \S+ may not change \/etc\/postgresql\/15\/main\/pg_hba\.conf/, /run pgssl as root \(sudo pgssl …\) or as the owner of \/etc\/postgresql\/15\/main/],
    ['EPERM', 'operation not permitted', /immutable or append-only \(lsattr -d/, /chattr -i/],
    ['EROFS', 'read-only file system', /mounted read-only/, /mount -o remount,rw \/\S*.*--cert-dir/],
    ['ENOSPC', 'no space left on device', /no space left on the device/, /df -h \/etc\/postgresql\/15\/main.*--cert-dir/],
    ['EDQUOT', 'disk quota exceeded', /disk quota of the OS user/, /quota -s/],
    ['ENOENT', 'no such file or directory', /does not exist/, /create \/etc\/postgresql\/15\/main or give the right path/],
    ['ENOTDIR', 'not a directory', /must be a folder is a file/, /move the file that is in the way/],
    ['EISDIR', 'illegal operation on a directory', /is a folder where pgssl expects a file/, /path of the file itself/],
    ['EBUSY', 'resource busy or locked', /is busy/, /bind-mounted single file/],
  ];
  it('covers every code it promises', () => assert.deepEqual(cases.map((c) => c[0]), [...fileErrorCodes]));
  for (const [code, text, cause, fix] of cases) {
    it(`${code}: names the path, the cause and the fix in one paragraph`, () => {
      const error = fileSystemError(nodeError(code, path, text), 'write');
      assert.ok(error instanceof OperationalError);
      assert.equal(error.exitCode, ExitCode.operational);
      assert.match(error.message, new RegExp(`^could not write ${path.replace(/\./g, '\\.')}: `));
      assert.match(error.message, cause);
      assert.match(error.message, /\. Fix: /);
      assert.match(error.message.split('. Fix: ')[1], fix);
      assert.doesNotMatch(error.message, /\n/);
      assert.equal((error.cause as NodeJS.ErrnoException).code, code, 'the original error stays as the cause');
    });
  }

  it('an unknown code still becomes an operational error with the system message', () => {
    const error = fileSystemError(nodeError('ELOOP', '/a/b', 'too many symbolic links encountered'), 'read');
    assert.ok(error instanceof OperationalError);
    assert.match(error.message, /^could not read \/a\/b: too many symbolic links encountered, open '\/a\/b'\. Fix: check the path/);
  });

  it('a PgsslError passes through unchanged', () => {
    const usage = new UsageError('bad flag');
    assert.equal(fileSystemError(usage, 'write', '/x'), usage);
  });

  it('finds the errno code on the cause of a wrapping error (writeFileAtomic wraps its failures)', () => {
    const wrapped = new Error('could not write /srv/x.crt: EROFS: read-only file system', { cause: nodeError('EROFS', '/srv/.x.crt.pgssl-1.tmp', 'read-only file system') });
    assert.match(fileSystemError(wrapped, 'write', '/srv/x.crt').message, /^could not write \/srv\/x\.crt: the file system holding \/srv\/x\.crt is mounted read-only\. Fix: remount/);
  });

  it('takes the path from the error when none is given', () => {
    assert.match(fileSystemError(nodeError('EROFS', '/srv/x.crt', 'read-only file system'), 'write').message, /^could not write \/srv\/x\.crt: /);
  });
});

describe('withFileErrors', () => {
  it('translates a real synchronous error (EISDIR from reading a folder)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgssl-fe-'));
    try {
      assert.throws(
        () => withFileErrors('read', dir, () => readFileSync(dir)),
        (e) => e instanceof OperationalError && e.message.startsWith(`could not read ${dir}: ${dir} is a folder where pgssl expects a file. Fix:`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('translates a real asynchronous error (ENOENT), and returns the value otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgssl-fe-'));
    try {
      const { readFile, writeFile } = await import('node:fs/promises');
      const missing = join(dir, 'nope', 'server.crt');
      await assert.rejects(
        withFileErrors('write', missing, () => writeFile(missing, 'x')),
        (e) => e instanceof OperationalError && e.message.includes(`could not write ${missing}: ${missing} does not exist`),
      );
      writeFileSync(join(dir, 'ok'), 'content');
      assert.equal(await withFileErrors('read', join(dir, 'ok'), () => readFile(join(dir, 'ok'), 'utf8')), 'content');
      assert.equal(withFileErrors('read', join(dir, 'ok'), () => 42), 42);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mountPointOf', () => {
  it('finds the mount point of a path, and walks up from a missing one', () => {
    assert.equal(mountPointOf('/proc/self/status'), '/proc');
    assert.equal(mountPointOf('/proc/no/such/file'), '/proc');
  });
});
