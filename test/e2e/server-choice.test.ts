/**
 * Defect 14: the wizard with no server on the default socket lists the local
 * servers it sees and goes on with the one picked; a script fails with the
 * connection error, naming those servers and the -h/-p that reach them.
 * Two throwaway clusters put a second socket in a shared folder (PGHOST);
 * nothing listens on 5432 there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseLsClustersJson, parseLsClustersText } from '../../src/server/localServers.js';
import { pgsslBin, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { snapshot, type ServerSnapshot } from '../support/snapshot.js';
import { TmuxSession } from '../support/tmux.js';

it('pg_lsclusters on this host: its text and --json outputs read the same', (t) => {
  const run = (args: string[]) => spawnSync('pg_lsclusters', args, { encoding: 'utf8' });
  const plain = run([]);
  if (plain.error) return t.skip('pg_lsclusters is not installed (postgresql-common)');
  const asJson = run(['--json']);
  if (asJson.status !== 0) return t.skip(`pg_lsclusters --json is not available here: ${asJson.stderr.trim()}`);
  const fromJson = parseLsClustersJson(asJson.stdout).map(({ socketDir: _s, ...rest }) => rest);
  assert.deepEqual(parseLsClustersText(plain.stdout), fromJson);
});

describe('no server on the default socket', () => {
  let shared: string;
  let state: string;
  const clusters: Cluster[] = [];
  const snapshots: ServerSnapshot[] = [];

  before(async () => {
    shared = mkdtempSync(join(tmpdir(), 'pgssl-sockets-'));
    state = mkdtempSync(join(tmpdir(), 'pgssl-state-'));
    chmodSync(shared, 0o755);
    for (let i = 0; i < 2; i++) {
      const cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
      clusters.push(cluster);
      if (cluster.osUser.switchTo) chownSync(shared, cluster.osUser.uid, cluster.osUser.gid);
      // Its own socket folder (the harness connects there) and the shared one the wizard scans.
      await cluster.query(`ALTER SYSTEM SET unix_socket_directories = '${cluster.socketDir}', '${shared}'`);
      cluster.restart();
      snapshots.push(await snapshot(cluster));
    }
  });
  after(() => {
    for (const cluster of clusters) cluster.stop();
    rmSync(shared, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  const env = () => cleanEnv({ PGHOST: shared, PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: join(state, 'pgssl'), HOME: state });

  it('the wizard lists both, and picking the second goes on with that server; Ctrl-C changes nothing', { timeout: 120_000 }, async () => {
    const [first, second] = clusters;
    const session = new TmuxSession(`${process.execPath} ${pgsslBin}`, { PGHOST: shared, PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: join(state, 'pgssl'), HOME: state, TERM: 'xterm-256color' });
    try {
      const list = await session.waitFor(/Which local server should pgssl work on\?/);
      assert.match(list, new RegExp(`No server answers on the socket ${shared}/\\.s\\.PGSQL\\.5432\\.`));
      for (const cluster of [first, second]) {
        assert.match(list, new RegExp(`port ${cluster.port}, ${cluster.dataDir} \\(socket ${shared}/\\.s\\.PGSQL\\.${cluster.port}\\)`), `lists the server on port ${cluster.port} with its data directory`);
      }
      // Move the cursor (❯) to the second server, however many other servers this host runs.
      for (let i = 0; i < 40 && !new RegExp(`❯.*port ${second.port},`).test(session.screen()); i++) {
        session.keys('Down');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(session.screen(), new RegExp(`❯.*port ${second.port},`));
      session.keys('Enter');
      const plan = await session.waitFor(/Which certificate should the server use\?/, 60_000);
      assert.match(plan, new RegExp(`data directory ${second.dataDir}, pg_hba\\.conf`), 'connected to the server picked');
      session.keys('C-c');
      const end = await session.waitFor(/EXIT=\d+/);
      assert.match(end, /cancelled; nothing was changed/);
      assert.match(end, /EXIT=1/);
    } finally {
      session.close();
    }
    for (const [i, cluster] of clusters.entries()) assert.deepEqual(await snapshot(cluster), snapshots[i]);
  });

  it('a script fails with the connection error, naming both servers and the -h/-p for each', { timeout: 60_000 }, async () => {
    const result = await runPgssl(['enable', '--yes'], { env: env() });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^pgssl: could not connect to the server: .*${shared}/\\.s\\.PGSQL\\.5432\\. .*Servers found on this host: `));
    for (const cluster of clusters) assert.match(result.stderr, new RegExp(`port ${cluster.port}, ${cluster.dataDir} \\(socket ${shared}/\\.s\\.PGSQL\\.${cluster.port}\\) — -h ${shared} -p ${cluster.port}`));
    assert.doesNotMatch(result.stderr, /bug in pgssl/);
    for (const [i, cluster] of clusters.entries()) assert.deepEqual(await snapshot(cluster), snapshots[i]);
  });
});
