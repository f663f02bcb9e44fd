/**
 * kill -9 at every journal position of enable and of rollback: the process
 * kills itself right after its N-th journal write (PGSSL_TEST_AFTER_JOURNAL_WRITE),
 * so every point between "registered" and "done" is reached exactly. After
 * each, the next command brings the server to a consistent end: rollback
 * gives back the snapshot from before enable (bytes, modes, owners, settings,
 * no litter), and a re-run of enable --yes ends compliant.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { snapshot, type ServerSnapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';

const hba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        0.0.0.0/0     trust
host    replication  all        0.0.0.0/0     trust
`;

describe('kill -9 at every journal position', () => {
  let cluster: Cluster;
  let original: ServerSnapshot;
  const stateRoot = tempDir('pgssl-crash');
  const state = join(stateRoot, 'pgssl');
  const run = (args: string[], crashAt?: number) =>
    runPgssl(args, { env: cluster.env({ PGSSL_STATE_DIR: state, ...(crashAt ? { PGSSL_TEST_AFTER_JOURNAL_WRITE: `${crashAt}:SIGKILL` } : {}) }), timeoutMs: 120_000 });

  before(async () => {
    cluster = await startCluster({ hba });
    original = await snapshot(cluster);
  });
  after(() => {
    cluster?.stop();
  });

  it('in enable: after each, rollback gives back the server as it was', { timeout: 600_000 }, async () => {
    const positions: number[] = [];
    for (let at = 1; at < 40; at++) {
      const killed = await run(['enable', '--yes'], at);
      if (killed.signal !== 'SIGKILL') {
        // Past the last journal write: the run finished by itself.
        assert.equal(killed.code, 0, killed.stderr);
        break;
      }
      positions.push(at);
      const back = await run(['rollback', '--non-interactive']);
      assert.equal(back.code, 0, `position ${at}: ${back.stderr}`);
      assert.deepEqual(await snapshot(cluster), original, `position ${at}: the server is as it was before enable`);
    }
    assert.ok(positions.length >= 8, `covered ${positions.length} positions (files, settings, pg_hba.conf, status)`);
    // The run that finished: leave the server as it was for the next test.
    assert.equal((await run(['rollback', '--non-interactive'])).code, 0);
    assert.deepEqual(await snapshot(cluster), original);
  });

  it('in rollback: after each, a second rollback finishes the job', { timeout: 600_000 }, async () => {
    const positions: number[] = [];
    for (let at = 1; at < 40; at++) {
      const enabled = await run(['enable', '--yes']);
      assert.equal(enabled.code, 0, enabled.stderr);
      const killed = await run(['rollback', '--non-interactive'], at);
      if (killed.signal !== 'SIGKILL') {
        assert.equal(killed.code, 0, killed.stderr);
        assert.deepEqual(await snapshot(cluster), original);
        break;
      }
      positions.push(at);
      const again = await run(['rollback', '--non-interactive', '--json']);
      assert.equal(again.code, 0, `position ${at}: ${again.stderr}`);
      // Killed right after its last journal write, the first rollback had already finished.
      const second = parseJsonOutput(again);
      assert.ok(second.rolledBack || (second.journal === undefined && /nothing to roll back/.test(again.stderr)), `position ${at}: ${again.stderr}`);
      assert.deepEqual(await snapshot(cluster), original, `position ${at}: the server is as it was before enable`);
    }
    assert.ok(positions.length >= 8, `covered ${positions.length} positions`);
  });

  it('in enable: a re-run with --yes undoes the interrupted run first and ends compliant; one rollback is then enough', { timeout: 300_000 }, async () => {
    for (const at of [2, 4, 6]) {
      const killed = await run(['enable', '--yes'], at);
      assert.equal(killed.signal, 'SIGKILL');
      const refused = await run(['enable', '--non-interactive', '--json']);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /stopped half-way[\s\S]*pgssl rollback/);
      assert.equal(parseJsonOutput(refused).changed, false);
      const rerun = await run(['enable', '--yes', '--json']);
      assert.equal(rerun.code, 0, rerun.stderr);
      const report = parseJsonOutput(rerun);
      assert.equal(report.recovered.length, 1, 'the interrupted run was undone first');
      assert.equal(report.compliance.result, 'compliant');
      assert.equal((await run(['rollback', '--non-interactive'])).code, 0);
      assert.deepEqual(await snapshot(cluster), original, `position ${at}: one rollback is enough`);
    }
  });
});
