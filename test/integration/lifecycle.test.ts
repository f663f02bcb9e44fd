/**
 * Lifecycle tests, as pgroll does: for each layout, enable → check (real
 * clients, compliance, nothing left beside the configuration, backups only in
 * the state folder) → rollback → check (the snapshot from before: bytes,
 * modes, owners, symbolic links, settings, folder listings) against a real
 * server.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster, type Cluster, type ClusterOptions } from '../support/cluster.js';
import { psql } from '../support/psql.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { connectFrom } from '../support/connectFrom.js';

const remoteHba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        0.0.0.0/0     trust
host    replication  all        0.0.0.0/0     trust
`;


interface LayoutCase {
  name: string;
  cluster: ClusterOptions;
  /** Changes made to the cluster before enable (the layout under test); returns extra files to snapshot. */
  arrange?(cluster: Cluster): Promise<string[]> | string[];
  /** Checks after enable, beyond compliance and the real clients. */
  afterEnable?(cluster: Cluster, report: any): void;
}

const cases: LayoutCase[] = [
  { name: 'a throwaway cluster (config in the data directory)', cluster: { hba: remoteHba } },
  { name: 'a Debian-style configuration folder', cluster: { hba: remoteHba, debianLayout: true } },
  {
    name: 'pg_hba.conf as a symbolic link to a file in another folder',
    cluster: { hba: remoteHba, debianLayout: true },
    arrange(cluster) {
      const real = join(cluster.dir, 'shared-config', 'pg_hba.conf');
      mkdirSync(dirname(real), { mode: 0o755 });
      renameSync(cluster.hbaFile, real);
      symlinkSync(real, cluster.hbaFile);
      return [real];
    },
    afterEnable(cluster) {
      assert.ok(lstatSync(cluster.hbaFile).isSymbolicLink(), 'the link stays a link');
      assert.match(readFileSync(join(cluster.dir, 'shared-config', 'pg_hba.conf'), 'utf8'), /^hostssl all {10}all {8}0\.0\.0\.0\/0/m, 'its target was converted');
      assert.deepEqual(readdirSync(join(cluster.dir, 'shared-config')), ['pg_hba.conf'], 'nothing left beside the target');
    },
  },
  {
    name: 'hostssl lines written before TLS is on (the server only warns about them)',
    cluster: { hba: remoteHba + 'hostssl all all 10.0.0.0/8 trust\n' },
  },
  {
    name: 'old server.crt/server.key files in the data directory (replaced, then restored with mode and owner)',
    cluster: { hba: remoteHba },
    arrange(cluster) {
      cluster.writeOwned(join(cluster.dataDir, 'server.crt'), 'an old certificate nobody uses\n', 0o640);
      cluster.writeOwned(join(cluster.dataDir, 'server.key'), 'an old key\n', 0o600);
      return [];
    },
  },
];

describe('enable → check → rollback → check, per layout', () => {
  const clusters: Cluster[] = [];
  after(() => clusters.forEach((c) => c.stop()));

  for (const layout of cases) {
    it(layout.name, { timeout: 120_000 }, async () => {
      const cluster = await startCluster(layout.cluster);
      clusters.push(cluster);
      const extraFiles = (await layout.arrange?.(cluster)) ?? [];
      if (extraFiles.length > 0 || layout.arrange) await cluster.reload();
      const state = join(tempDir('pgssl-lifecycle-'), 'pgssl');
      const env = cluster.env({ PGSSL_STATE_DIR: state });
      const before = await snapshot(cluster, [], extraFiles);

      const enabled = await runPgssl(['enable', '--yes', '--json'], { env, timeoutMs: 120_000 });
      assert.equal(enabled.code, 0, enabled.stderr);
      const report = parseJsonOutput(enabled);
      assert.equal(report.compliance.result, 'compliant');
      assert.equal(report.changed, true);
      const verified = psql(`host=localhost port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(state, 'ca.crt')}`, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal(verified.stdout, 't');
      assert.match(await connectFrom(cluster, '127.0.0.2', false), /no encryption|SSL off/, 'a plain connection from a remote-looking address is refused');
      // Backups live with the journal, 0600 in 0700 folders; nothing beside the configuration.
      for (const folder of Object.values((await snapshot(cluster)).folders)) assert.ok(!folder.some((n) => /\.bak$|\.tmp$|pgssl/.test(n)), `nothing left: ${folder.join(', ')}`);
      const backups = report.hba.backups as string[];
      assert.ok(backups.length > 0 && backups.every((b) => b.startsWith(join(state, 'runs'))), `backups in the state folder: ${backups.join(', ')}`);
      for (const backup of backups) {
        assert.equal(statSync(backup).mode & 0o777, 0o600);
        assert.equal(statSync(dirname(backup)).mode & 0o777, 0o700);
      }
      layout.afterEnable?.(cluster, report);

      const rolledBack = await runPgssl(['rollback', '--non-interactive', '--json'], { env });
      assert.equal(rolledBack.code, 0, rolledBack.stderr);
      assert.equal(parseJsonOutput(rolledBack).changed, true);
      assert.deepEqual(await snapshot(cluster, [], extraFiles), before, 'content, mode, owner, links, settings and folders as before');
      assert.equal((await cluster.query<{ one: number }>('SELECT 1 AS one'))[0].one, 1, 'the admin still connects');
      cluster.restart();
      assert.equal((await cluster.query<{ one: number }>('SELECT 1 AS one'))[0].one, 1, 'and the server restarts with what is in force');
    });
  }
});

describe('files the engine finds from runs killed earlier', () => {
  it('a temp file of a dead run is removed at the next start; a live one is not', async () => {
    const cluster = await startCluster({ hba: remoteHba });
    try {
      const dead = join(cluster.dataDir, '.pg_hba.conf.pgssl-999999999-0123456789ab.tmp');
      const live = join(cluster.dataDir, `.pg_hba.conf.pgssl-${process.pid}-0123456789ab.tmp`);
      writeFileSync(dead, 'left by a killed run\n');
      writeFileSync(live, 'a run in progress\n');
      const state = join(tempDir('pgssl-temp-'), 'pgssl');
      const r = await runPgssl(['enable', '--yes'], { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /removed .*pgssl-999999999-0123456789ab\.tmp, left by a pgssl run that was killed/);
      assert.deepEqual(readdirSync(cluster.dataDir).filter((n) => n.endsWith('.tmp')), [`.pg_hba.conf.pgssl-${process.pid}-0123456789ab.tmp`]);
    } finally {
      cluster.stop();
    }
  });
});
