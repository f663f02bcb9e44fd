/**
 * Defect 2: every file a plan will write is checked before any change, on
 * real file systems — a read-only mount, a full tmpfs, `chattr +i`, a folder
 * of another user (the check run as the postgres OS user) — and the check
 * changes nothing (the tree is identical afterwards, no probe file left).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OperationalError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/files/atomicWrite.js';
import { withFileErrors } from '../../src/files/fileErrors.js';
import { assertWritable, findWriteProblems, type PlannedWrite } from '../../src/files/preconditions.js';
import { serverOsUser } from '../../src/cluster/osUser.js';
import { Mounts, treeOf, whyNoMounts } from '../support/mounts.js';

const cannotRun = whyNoMounts() ?? false;
const hba = '# TYPE DATABASE USER ADDRESS METHOD\nhost all all 0.0.0.0/0 scram-sha-256\n';

describe('write preconditions on real file systems', { skip: cannotRun }, () => {
  it('a writable tmpfs with room: no problem, and nothing left behind (the control case)', () => {
    const mounts = new Mounts();
    try {
      const point = mounts.tmpfs('ok', '1m');
      writeFileSync(join(point, 'pg_hba.conf'), hba);
      const before = treeOf(point);
      assert.deepEqual(findWriteProblems([{ path: join(point, 'pg_hba.conf'), bytes: 200 }, { path: join(point, 'server.key'), bytes: 300 }]), []);
      assert.doesNotThrow(() => assertWritable([{ path: join(point, 'pg_hba.conf'), bytes: 200 }]));
      assert.deepEqual(treeOf(point), before);
    } finally {
      mounts.cleanup();
    }
  });

  it('a read-only mount: the existing file and a new one are both reported, with remount as the fix', () => {
    const mounts = new Mounts();
    try {
      const point = mounts.tmpfs('ro', '1m');
      writeFileSync(join(point, 'pg_hba.conf'), hba);
      mounts.readOnly(point);
      const before = treeOf(point);
      const problems = findWriteProblems([{ path: join(point, 'pg_hba.conf'), bytes: 200 }, { path: join(point, 'server.crt'), bytes: 900 }]);
      assert.deepEqual(problems.map((p) => [p.path, p.kind]), [
        [join(point, 'pg_hba.conf'), 'read-only-file-system'],
        [join(point, 'server.crt'), 'read-only-file-system'],
      ]);
      assert.match(problems[0].cause, /mounted read-only/);
      assert.match(problems[0].fix, new RegExp(`mount -o remount,rw ${point}\\b.*--cert-dir`));
      assert.deepEqual(treeOf(point), before);

      // The engine's own atomic write on the same mount, wrapped: an OperationalError naming path, cause and fix.
      assert.throws(
        () => withFileErrors('write', join(point, 'server.crt'), () => writeFileAtomic(join(point, 'server.crt'), 'x', { mode: 0o644 })),
        (e) => e instanceof OperationalError && new RegExp(`^could not write ${point}/server\\.crt: the file system holding .* is mounted read-only\\. Fix: remount it read-write`).test(e.message),
      );
      assert.deepEqual(treeOf(point), before);
    } finally {
      mounts.cleanup();
    }
  });

  it('a full tmpfs: not enough space for the new files, with the figures', () => {
    const mounts = new Mounts();
    try {
      const point = mounts.tmpfs('full', '256k');
      writeFileSync(join(point, 'pg_hba.conf'), hba);
      mounts.fill(point);
      const before = treeOf(point);
      const problems = findWriteProblems([{ path: join(point, 'pg_hba.conf'), bytes: 64 * 1024 }, { path: join(point, 'root.crt'), bytes: 2000 }]);
      assert.deepEqual(problems.map((p) => p.kind), ['no-space', 'no-space']);
      assert.match(problems[0].cause, new RegExp(`^no space left on the device holding ${point}: the 2 files there need \\d+\\.\\d KiB, [\\d.]+ (bytes|KiB) free$`));
      assert.match(problems[0].fix, new RegExp(`^free space there \\(df -h ${point}; df -i for inodes\\) or choose another folder \\(--cert-dir`));
      assert.throws(
        () => withFileErrors('write', join(point, 'root.crt'), () => writeFileAtomic(join(point, 'root.crt'), Buffer.alloc(64 * 1024), { mode: 0o644 })),
        (e) => e instanceof OperationalError && /: no space left on the device holding .*\. Fix: free space there/.test(e.message),
      );
      assert.deepEqual(treeOf(point), before, 'the failed atomic write left no temp file');
      // The same writes fit once the filler is gone: the figures, not the mount, decide.
      for (const name of readdirSync(point)) if (name.startsWith('filler-')) rmSync(join(point, name));
      assert.deepEqual(findWriteProblems([{ path: join(point, 'pg_hba.conf'), bytes: 64 * 1024 }, { path: join(point, 'root.crt'), bytes: 2000 }]), []);
    } finally {
      mounts.cleanup();
    }
  });

  it('chattr +i on a file and on a folder: immutable, with chattr -i as the fix', (t) => {
    const mounts = new Mounts();
    try {
      const capable = mounts.immutableCapable('imm');
      if ('reason' in capable) return t.skip(capable.reason);
      const conf = join(capable.point, 'conf');
      const frozen = join(capable.point, 'frozen');
      mkdirSync(conf);
      mkdirSync(frozen);
      writeFileSync(join(conf, 'pg_hba.conf'), hba);
      mounts.chattr('+i', join(conf, 'pg_hba.conf'));
      mounts.chattr('+i', frozen);
      const before = treeOf(capable.point);
      const problems = findWriteProblems([
        { path: join(conf, 'pg_hba.conf'), bytes: 200 },
        { path: join(conf, 'server.key'), bytes: 300 }, // beside it: fine
        { path: join(frozen, 'server.crt'), bytes: 900 },
      ]);
      assert.deepEqual(problems.map((p) => [p.path, p.kind]), [
        [join(conf, 'pg_hba.conf'), 'immutable'],
        [join(frozen, 'server.crt'), 'immutable'],
      ]);
      assert.match(problems[0].cause, /immutable or append-only \(lsattr/);
      assert.match(problems[0].fix, /chattr -i/);
      assert.throws(
        () => withFileErrors('write', join(conf, 'pg_hba.conf'), () => writeFileAtomic(join(conf, 'pg_hba.conf'), 'x', { mode: 0o600 })),
        (e) => e instanceof OperationalError && /pg_hba\.conf: operation not permitted .* immutable or append-only/.test(e.message),
      );
      assert.deepEqual(treeOf(capable.point), before);
    } finally {
      mounts.cleanup();
    }
  });

  it('every problem at once, links followed to their target, in one message', () => {
    const mounts = new Mounts();
    const plain = mkdtempSync(join(tmpdir(), 'pgssl-pre-'));
    try {
      const ro = mounts.tmpfs('ro', '1m');
      writeFileSync(join(ro, 'pg_hba.conf'), hba);
      mounts.readOnly(ro);
      symlinkSync(join(ro, 'pg_hba.conf'), join(plain, 'pg_hba.conf'));
      writeFileSync(join(plain, 'not-a-folder'), '');
      mkdirSync(join(plain, 'a-folder'));
      const before = treeOf(plain);
      const writes: PlannedWrite[] = [
        { path: join(plain, 'pg_hba.conf'), bytes: 100 },
        { path: join(plain, 'missing', 'server.crt'), bytes: 100 },
        { path: join(plain, 'not-a-folder', 'server.crt'), bytes: 100 },
        { path: join(plain, 'a-folder'), bytes: 100 },
        { path: join(plain, 'not-a-folder', 'state'), bytes: 0, folder: true },
        { path: join(plain, 'state', 'runs', 'x', 'journal.json'), bytes: 100, createFolders: true }, // creatable: fine
      ];
      const problems = findWriteProblems(writes);
      assert.deepEqual(problems.map((p) => [p.path, p.kind]), [
        [join(plain, 'pg_hba.conf'), 'read-only-file-system'],
        [join(plain, 'missing', 'server.crt'), 'missing-folder'],
        [join(plain, 'not-a-folder', 'server.crt'), 'not-a-folder'],
        [join(plain, 'a-folder'), 'is-a-folder'],
        [join(plain, 'not-a-folder', 'state'), 'not-a-folder'],
      ]);
      assert.match(problems[0].cause, new RegExp(`is a link to ${ro}/pg_hba\\.conf`));
      assert.throws(
        () => assertWritable(writes),
        (e) => e instanceof OperationalError && /cannot write 5 files it needs, so it changed nothing:\n {2}- .*pg_hba\.conf: .*read-only.*\n {2}- .*missing\/server\.crt: the folder .*missing does not exist/.test(e.message),
      );
      assert.deepEqual(treeOf(plain), before);
    } finally {
      rmSync(plain, { recursive: true, force: true });
      mounts.cleanup();
    }
  });

  it('as the postgres OS user: a folder of root, a state folder it cannot enter, a file of root in a sticky folder', (t) => {
    const user = serverOsUser();
    if (!user.switchTo) return t.skip('needs root and a postgres OS user');
    const dir = mkdtempSync(join(tmpdir(), 'pgssl-pre-user-'));
    try {
      chmodSync(dir, 0o755);
      const rootsConf = join(dir, 'etc');
      mkdirSync(rootsConf, { mode: 0o755 });
      writeFileSync(join(rootsConf, 'pg_hba.conf'), hba, { mode: 0o644 });
      const ownConf = join(dir, 'own');
      mkdirSync(ownConf);
      chownSync(ownConf, user.uid, user.gid);
      const privateState = join(dir, 'private');
      mkdirSync(privateState, { mode: 0o700 });
      const sticky = join(dir, 'sticky');
      mkdirSync(sticky);
      chmodSync(sticky, 0o1777);
      writeFileSync(join(sticky, 'root.crt'), 'a file of root in a folder anyone may write', { mode: 0o666 });
      const before = treeOf(dir);
      const writes: PlannedWrite[] = [
        { path: join(rootsConf, 'pg_hba.conf'), bytes: 100 },
        { path: join(ownConf, 'server.key'), bytes: 100 },
        { path: join(privateState, 'pgssl'), bytes: 0, folder: true },
        { path: join(sticky, 'root.crt'), bytes: 100 },
        { path: join(sticky, 'server.crt'), bytes: 100 }, // a new file there: fine
      ];
      const moduleUrl = new URL('../../src/files/preconditions.js', import.meta.url).href;
      const script = `import(${JSON.stringify(moduleUrl)}).then((m) => console.log(JSON.stringify(m.findWriteProblems(${JSON.stringify(writes)}))))`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: user.uid, gid: user.gid, encoding: 'utf8', cwd: dir });
      assert.equal(run.status, 0, run.stderr);
      const problems = JSON.parse(run.stdout) as { path: string; kind: string; cause: string; fix: string }[];
      assert.deepEqual(problems.map((p) => [p.path, p.kind]), [
        [join(rootsConf, 'pg_hba.conf'), 'not-writable'],
        [join(privateState, 'pgssl'), 'not-writable'],
        [join(sticky, 'root.crt'), 'not-writable'],
      ]);
      assert.match(problems[2].cause, /belongs to root and its folder .*sticky has the sticky bit/);
      assert.equal(problems[2].fix, 'run pgssl as root');
      assert.match(problems[0].cause, new RegExp(`the OS user postgres may not change ${rootsConf}/pg_hba\\.conf`));
      assert.match(problems[0].fix, new RegExp(`run pgssl as root \\(sudo pgssl …\\) or as the owner of ${rootsConf} \\(root`));
      assert.deepEqual(treeOf(dir), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
