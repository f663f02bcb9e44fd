/**
 * A streaming standby (pg_basebackup -R) connected without TLS: after
 * `pgssl enable --terminate-non-ssl`, its walsender is back and pg_stat_ssl
 * shows TLS for it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { cleanEnv, freePort } from '../../src/cluster/throwaway.js';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster } from '../support/cluster.js';
import { tempDir } from '../support/tempDir.js';

it('a standby connected without TLS comes back on TLS after enable --terminate-non-ssl', { timeout: 180_000 }, async (t) => {
  const primary = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' });
  const standbyRoot = tempDir('pgssl-standby');
  const standbyData = join(standbyRoot, 'data');
  const basebackup = [join(primary.binDir, 'pg_basebackup'), `/usr/lib/postgresql/${primary.major}/bin/pg_basebackup`].find(existsSync);
  if (!basebackup) {
    primary.stop();
    return t.skip(`no pg_basebackup for PostgreSQL ${primary.major} here (the embedded packages ship only the server)`);
  }
  if (primary.osUser.switchTo) chownSync(standbyRoot, primary.osUser.uid, primary.osUser.gid);
  // The standby's libpq reads ~/.postgresql: give it a HOME of its own, as a real server has.
  const asServer = { env: cleanEnv({ HOME: standbyRoot }), ...(primary.osUser.switchTo ? { uid: primary.osUser.uid, gid: primary.osUser.gid } : {}) };
  const standbyPort = await freePort();
  const pgCtl = (...args: string[]) => spawnSync(join(primary.binDir, 'pg_ctl'), ['-D', standbyData, ...args], { ...asServer, encoding: 'utf8' });
  try {
    const backup = spawnSync(basebackup, ['-D', standbyData, '-R', '-X', 'stream', '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-d', 'sslmode=prefer application_name=standby1'], { ...asServer, encoding: 'utf8' });
    assert.equal(backup.status, 0, backup.stderr);
    const started = pgCtl('start', '-w', '-l', join(standbyRoot, 'standby.log'), '-o', `-p ${standbyPort} -c listen_addresses='' -c unix_socket_directories='${standbyRoot}'`);
    assert.equal(started.status, 0, started.stderr);

    const waitForWalsender = async (tls: boolean) => {
      for (let i = 0; i < 100; i++) {
        const rows = await primary.query<{ ssl: boolean }>("SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.application_name = 'standby1'");
        if (rows[0] && rows[0].ssl === tls) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    assert.ok(await waitForWalsender(false), 'the standby streams without TLS before');

    const r = await runPgssl(['enable', '--yes', '--json', '--include-loopback', '--terminate-non-ssl', '--walsender-wait', '20'], {
      env: primary.env({ PGSSL_STATE_DIR: join(standbyRoot, 'state') }),
      timeoutMs: 150_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.sessions.terminated.length, 1);
    assert.equal(report.sessions.walsendersBackOnTls.length, 1, `standby log:\n${readFileSync(join(standbyRoot, 'standby.log'), 'utf8').slice(-3000)}`);
    assert.equal(report.sessions.walsendersBackOnTls[0].applicationName, 'standby1');
    assert.ok(await waitForWalsender(true), 'pg_stat_ssl shows TLS for the walsender');
    assert.ok(report.hba.changes.some((c: { before: string }) => /replication/.test(c.before)), 'the replication rule now requires TLS');
  } finally {
    pgCtl('stop', '-m', 'immediate', '-w');
    rmSync(standbyRoot, { recursive: true, force: true });
    primary.stop();
  }
});
