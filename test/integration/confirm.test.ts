/**
 * enable --confirm-within and pgssl confirm, on real clusters: the run is
 * reverted at the deadline unless confirmed (a plain client from a
 * remote-looking address gets in again, pg_hba.conf and the settings are as
 * before), and that holds when the watchdog is killed (the next status or
 * command reverts), when pgssl is killed right after its changes, when the
 * ssh session's process group gets SIGHUP, and after a reboot in the window.
 * Deadlines are a few seconds; every wait for them is generous.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { systemdRunning } from '../../src/flow/confirm/watchdog.js';
import { parseJsonOutput, pgsslBin, runPgssl } from '../support/cli.js';
import { connectFrom } from '../support/connectFrom.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { treeSnapshot } from '../support/treeSnapshot.js';

const hba = `local   all  all                 trust
host    all  all  127.0.0.1/32   trust
host    all  all  0.0.0.0/0      trust
`;
// 127.0.0.2 is covered only by the 0.0.0.0/0 rule: the remote client the rewrite cuts off.
const remote = '127.0.0.2';
// PostgreSQL 12 and 13 say "SSL off" where 14+ say "no encryption".
const refused = /no pg_hba\.conf entry .*(no encryption|SSL off)/;

const watchdogs = new Set<number>();
after(() => {
  // A test that failed half-way must not leave a watchdog behind.
  for (const pid of watchdogs) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('confirm-deadline');
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface Setup {
  cluster: Cluster;
  state: string;
  run(args: string[], extra?: Record<string, string>): ReturnType<typeof runPgssl>;
  journal(): any;
  journalPath(): string;
  done(): void;
}

async function setup(): Promise<Setup> {
  const cluster = await startCluster({ hba });
  const state = join(tempDir('pgssl-confirm'), 'pgssl');
  const journalPath = () => {
    const runs = join(state, 'runs');
    const dir = join(runs, readdirSync(runs)[0]);
    const names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    return join(dir, names.at(-1)!);
  };
  return {
    cluster,
    state,
    run: (args, extra = {}) => runPgssl(args, { env: cluster.env({ PGSSL_STATE_DIR: state, ...extra }), timeoutMs: 180_000 }),
    journalPath,
    journal: () => JSON.parse(readFileSync(journalPath(), 'utf8')),
    done: () => cluster.stop(),
  };
}

/** enable --confirm-within, checked: pending, the watchdog running, the remote plain client refused. */
async function enablePending(s: Setup, seconds: number, extra: Record<string, string> = {}): Promise<{ report: any; pid: number }> {
  const enabled = await s.run(['enable', '--yes', '--json', '--confirm-within', String(seconds)], extra);
  assert.equal(enabled.code, 0, enabled.stderr);
  const report = parseJsonOutput(enabled);
  assert.equal(report.confirm.state, 'pending');
  assert.equal(report.confirm.watchdog.kind, 'process', 'no systemd here: a detached process');
  assert.match(report.nextSteps[0], /^Pending until .*pgssl confirm/);
  const pid = report.confirm.watchdog.pid as number;
  watchdogs.add(pid);
  assert.equal(s.journal().confirm.watchdog.pid, pid, 'the journal names the watchdog');
  assert.match(await connectFrom(s.cluster, remote, false), refused);
  return { report, pid };
}

async function waitPastDeadline(deadline: string): Promise<void> {
  await sleep(Math.max(0, Date.parse(deadline) - Date.now()) + 1500);
}

describe('enable --confirm-within and pgssl confirm', { timeout: 600_000 }, () => {
  it('not confirmed: the watchdog reverts the whole run at the deadline', async () => {
    const s = await setup();
    try {
      const before = await snapshot(s.cluster);
      assert.equal(await connectFrom(s.cluster, remote, false), 'connected');
      const { pid } = await enablePending(s, 5);
      const journal = await until('the revert', () => (s.journal().confirm.state !== 'pending' ? s.journal() : undefined));
      assert.equal(journal.confirm.state, 'reverted');
      assert.match(journal.confirm.reason, /deadline .* passed without pgssl confirm/);
      assert.equal(journal.status, 'undone');
      assert.equal(await connectFrom(s.cluster, remote, false), 'connected', 'the plain remote client gets in again');
      assert.deepEqual(await snapshot(s.cluster), before, 'pg_hba.conf byte for byte, settings and files as before');
      await until('the watchdog to end', () => !alive(pid));
    } finally {
      s.done();
    }
  });

  it('confirmed in time: kept after the deadline; the watchdog is stopped; a second confirm has nothing to do', async () => {
    const s = await setup();
    try {
      const { report, pid } = await enablePending(s, 20);
      const confirmed = await s.run(['confirm', '--json']);
      assert.equal(confirmed.code, 0, confirmed.stderr);
      const doc = parseJsonOutput(confirmed);
      assert.equal(doc.outcome, 'confirmed');
      assert.equal(doc.changed, true);
      assert.match(confirmed.stderr, /confirmed: the run in .* is kept/);
      await until('the watchdog to stop', () => !alive(pid), 30_000);
      await waitPastDeadline(report.confirm.deadline);
      const journal = s.journal();
      assert.equal(journal.confirm.state, 'confirmed');
      assert.equal(journal.status, 'applied');
      assert.match(await connectFrom(s.cluster, remote, false), refused, 'still enforced after the deadline');
      const again = await s.run(['confirm', '--json']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(parseJsonOutput(again).outcome, 'already-confirmed');
      assert.equal(parseJsonOutput(again).changed, false);
    } finally {
      s.done();
    }
  });

  it('watchdog killed: confirm past the deadline refuses and changes nothing; pgssl status then reverts', async () => {
    const s = await setup();
    try {
      const before = await snapshot(s.cluster);
      const { report, pid } = await enablePending(s, 5);
      process.kill(pid, 'SIGKILL');
      await until('the watchdog to die', () => !alive(pid));
      await waitPastDeadline(report.confirm.deadline);
      const enforced = await snapshot(s.cluster);
      const journalBefore = readFileSync(s.journalPath(), 'utf8');
      const late = await s.run(['confirm']);
      assert.equal(late.code, 1, late.stderr);
      assert.match(late.stderr, /too late to confirm the run in .*: its deadline .* has passed, so its watchdog is gone: pgssl status or the next pgssl command reverts it/);
      assert.deepEqual(await snapshot(s.cluster), enforced, 'confirm changed nothing on the server');
      assert.equal(readFileSync(s.journalPath(), 'utf8'), journalBefore, 'nor in the journal');

      const status = await s.run(['status', '--json']);
      const audit = parseJsonOutput(status);
      const finding = audit.findings.find((f: any) => f.id === 'CONFIRM_REVERTED');
      assert.ok(finding, status.stdout);
      assert.match(finding.message, /deadline .* passed without pgssl confirm/);
      assert.ok(audit.findings.some((f: any) => f.id === 'HBA_PLAIN_REMOTE'), 'the audit is of the server after the revert');
      assert.equal(s.journal().confirm.state, 'reverted');
      assert.equal(await connectFrom(s.cluster, remote, false), 'connected');
      assert.deepEqual(await snapshot(s.cluster), before);

      const reverted = await s.run(['confirm', '--json']);
      assert.equal(reverted.code, 1);
      assert.match(parseJsonOutput(reverted).error.message, /cannot be confirmed: it was reverted at .*nothing was changed/);
    } finally {
      s.done();
    }
  });

  it('watchdog killed: the next enable reverts the unconfirmed run first, then runs', async () => {
    const s = await setup();
    try {
      const { report, pid } = await enablePending(s, 5);
      const first = s.journalPath();
      process.kill(pid, 'SIGKILL');
      await until('the watchdog to die', () => !alive(pid));
      await waitPastDeadline(report.confirm.deadline);
      const next = await s.run(['enable', '--yes', '--json']);
      assert.equal(next.code, 0, next.stderr);
      assert.deepEqual(parseJsonOutput(next).recovered, [first]);
      assert.match(next.stderr, /reverted .*: the deadline .* passed without pgssl confirm/);
      assert.equal(JSON.parse(readFileSync(first, 'utf8')).confirm.state, 'reverted');
      assert.notEqual(s.journalPath(), first, 'a new run, applied');
      assert.equal(s.journal().confirm, undefined);
    } finally {
      s.done();
    }
  });

  it('pgssl killed (SIGKILL) right after its last journal write: the watchdog still reverts', async () => {
    const s = await setup();
    try {
      const before = await snapshot(s.cluster);
      // How many journal writes a whole run makes: its entries, the window twice (opened, watchdog), and "applied".
      const { pid: firstPid } = await enablePending(s, 60);
      const writes = s.journal().entries.length + 3;
      assert.equal((await s.run(['rollback', '--non-interactive'])).code, 0);
      process.kill(firstPid, 'SIGTERM');
      assert.deepEqual(await snapshot(s.cluster), before);

      const killed = await s.run(['enable', '--yes', '--confirm-within', '5'], { PGSSL_TEST_AFTER_JOURNAL_WRITE: `${writes}:SIGKILL` });
      assert.equal(killed.signal, 'SIGKILL', killed.stderr);
      const journal = s.journal();
      assert.equal(journal.status, 'applied', 'killed after the run had finished its changes');
      assert.equal(journal.confirm.state, 'pending');
      watchdogs.add(journal.confirm.watchdog.pid);
      assert.match(await connectFrom(s.cluster, remote, false), refused);
      // The watchdog does not inherit the crash hook (it writes the same journal): it finishes, down to its last note.
      const reverted = await until('the revert, to its last journal write', () => (s.journal().notes.some((n: string) => n.startsWith('reverted: ')) ? s.journal() : undefined));
      assert.equal(reverted.confirm.state, 'reverted');
      assert.equal(reverted.status, 'undone');
      assert.equal(await connectFrom(s.cluster, remote, false), 'connected');
      assert.deepEqual(await snapshot(s.cluster), before);
    } finally {
      s.done();
    }
  });

  it("SIGHUP to the ssh session's process group ends the shell, not the watchdog: still reverted", async () => {
    const s = await setup();
    try {
      const before = await snapshot(s.cluster);
      // The login shell of an ssh session: pgssl runs in it, then the shell waits (as the DBA would).
      const shell = spawn('/bin/sh', ['-c', `${process.execPath} ${pgsslBin} enable --yes --confirm-within 8 >/dev/null 2>&1; sleep 600`], {
        env: s.cluster.env({ PGSSL_STATE_DIR: s.state }),
        detached: true,
        stdio: 'ignore',
      });
      const ended = new Promise((resolve) => shell.on('exit', (_code, signal) => resolve(signal)));
      const journal = await until('the run to finish', () => {
        try {
          const j = s.journal();
          return j.status === 'applied' && j.confirm?.watchdog ? j : undefined;
        } catch {
          return undefined;
        }
      });
      const pid = journal.confirm.watchdog.pid as number;
      watchdogs.add(pid);
      process.kill(-shell.pid!, 'SIGHUP');
      assert.equal(await ended, 'SIGHUP', 'the session is gone');
      assert.ok(alive(pid), 'the watchdog lives on in a session of its own');
      const reverted = await until('the revert', () => (s.journal().confirm.state !== 'pending' ? s.journal() : undefined));
      assert.equal(reverted.confirm.state, 'reverted');
      assert.equal(await connectFrom(s.cluster, remote, false), 'connected');
      assert.deepEqual(await snapshot(s.cluster), before);
    } finally {
      s.done();
    }
  });

  it('a pending run stops other changes; a reboot in the window (another boot id) makes status revert before the deadline', async () => {
    const s = await setup();
    try {
      const before = await snapshot(s.cluster);
      const { pid } = await enablePending(s, 600);
      const pending = await snapshot(s.cluster);
      const rotate = await s.run(['rotate', '--yes']);
      assert.equal(rotate.code, 1, rotate.stderr);
      assert.match(rotate.stderr, /waiting for confirmation until .*nothing was changed\. Run pgssl confirm to keep it/);
      assert.deepEqual(await snapshot(s.cluster), pending, 'rotate changed nothing');
      const status = parseJsonOutput(await s.run(['status', '--json']));
      assert.ok(status.findings.some((f: any) => f.id === 'CONFIRM_PENDING'), 'status shows the window');

      // A reboot kills the watchdog and changes the boot id.
      process.kill(pid, 'SIGKILL');
      await until('the watchdog to die', () => !alive(pid));
      const journal = s.journal();
      journal.confirm.bootId = '00000000-0000-0000-0000-000000000000';
      writeFileSync(s.journalPath(), JSON.stringify(journal, null, 2));
      const after = parseJsonOutput(await s.run(['status', '--json']));
      const finding = after.findings.find((f: any) => f.id === 'CONFIRM_REVERTED');
      assert.ok(finding, JSON.stringify(after.findings));
      assert.match(finding.message, /host rebooted before the deadline/);
      assert.equal(await connectFrom(s.cluster, remote, false), 'connected');
      assert.deepEqual(await snapshot(s.cluster), before);
    } finally {
      s.done();
    }
  });

  it('pgssl confirm with nothing pending: says so, exit 0, changes nothing', async () => {
    const s = await setup();
    try {
      const before = await snapshot(s.cluster);
      const none = await s.run(['confirm', '--json']);
      assert.equal(none.code, 0, none.stderr);
      const doc = parseJsonOutput(none);
      assert.equal(doc.outcome, 'nothing-pending');
      assert.equal(doc.changed, false);
      assert.match(none.stderr, /nothing to confirm/);
      // After a run without --confirm-within, too.
      assert.equal((await s.run(['enable', '--yes'])).code, 0);
      const enabled = await snapshot(s.cluster);
      const stateTree = treeSnapshot(s.state);
      const plain = await s.run(['confirm']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /nothing to confirm: the last pgssl run on this server .* was not started with --confirm-within/);
      assert.deepEqual(await snapshot(s.cluster), enabled);
      assert.deepEqual(treeSnapshot(s.state), stateTree, 'the state folder is untouched');
      assert.notDeepEqual(enabled, before);
    } finally {
      s.done();
    }
  });

  it('--confirm-within out of range: refused before connecting (exit 2)', async () => {
    const result = await runPgssl(['enable', '--yes', '--confirm-within', '2', '-p', '1'], { env: process.env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--confirm-within 2: expected a whole number of seconds from 5 to 86400/);
  });

  it('the systemd-run watchdog', (t) => {
    if (!systemdRunning()) {
      t.skip('systemd is not PID 1 here (a container): the systemd-run --on-active path cannot run; the detached child is used and tested above');
      return;
    }
    t.skip('not exercised yet on a host with systemd: run enable --confirm-within there and check systemctl list-timers pgssl-confirm-*');
  });
});
