/**
 * reloadAndWait watches the admin session and, in enable, lets the next real
 * session confirm the reload. That rests on the postmaster signalling its
 * children during the reload and accepting connections only after it: here,
 * on each major, the very first session opened after the admin session saw
 * the reload runs the new configuration, pg_hba.conf included.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openClient, type Client } from '../../src/server/connect.js';
import type { ConnectionTarget } from '../../src/server/connectionTarget.js';
import { reloadAndWait, reloadSeenBy } from '../../src/server/reload.js';
import { startCluster, type Cluster } from '../support/cluster.js';

describe('reload: the admin session sees it first, the next new session runs it', () => {
  let cluster: Cluster;
  let target: ConnectionTarget;
  let admin: Client;
  before(async () => {
    cluster = await startCluster();
    target = { host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres', sslmode: 'disable', promptPassword: 'never', passfile: '/nonexistent', applicationName: 'pgssl-test' };
    admin = await openClient(target);
  });
  after(async () => {
    await admin?.end();
    cluster?.stop();
  });

  it('a setting changed by ALTER SYSTEM is in force in the first new session', async () => {
    for (const value of ['12345', '23456', '34567']) {
      await admin.query(`ALTER SYSTEM SET work_mem = ${value}`);
      const reload = await reloadAndWait(admin, target, { confirmWithNewSession: false });
      assert.equal(reload.attempts, 0);
      const session = await openClient(target);
      try {
        assert.ok(await reloadSeenBy(session, reload.loadedBefore), 'the new session runs the reloaded configuration');
        const [row] = (await session.query("SELECT setting FROM pg_settings WHERE name = 'work_mem'")).rows;
        assert.equal(row.setting, value);
      } finally {
        await session.end();
      }
    }
  });

  it('a pg_hba.conf change is in force for the first new connection', async () => {
    // A first rule that refuses the socket for database postgres: let in before the reload, refused right after.
    const session = await openClient(target);
    await session.end();
    writeFileSync(cluster.hbaFile, `local postgres all reject\n${readFileSync(cluster.hbaFile, 'utf8')}`);
    await reloadAndWait(admin, target, { confirmWithNewSession: false });
    await assert.rejects(openClient(target), /rejects connection|pg_hba\.conf/);
  });

  it('with confirmation, one new session is enough', async () => {
    await admin.query('ALTER SYSTEM RESET work_mem');
    const reload = await reloadAndWait(admin, { ...target, database: 'template1' }, { confirmWithNewSession: true });
    assert.ok(reload.attempts >= 1);
  });
});
