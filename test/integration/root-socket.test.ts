/**
 * `sudo pgssl` on a server with peer authentication on the socket (Debian's
 * and initdb's advice): root has no role and peer refuses it, so pgssl, run
 * as root with no user given, logs in as the socket owner's role and connects
 * as that OS user (the kernel records the effective uid at connect(2)).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { withClient } from '../../src/server/connect.js';
import { resolveConnectionTarget } from '../../src/server/connectionTarget.js';
import { startCluster, type Cluster } from '../support/cluster.js';

describe('root on a peer-authenticated socket', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ auth: 'peer-scram' });
  });
  after(() => cluster?.stop());

  it('peer refuses root as the postgres role on its own (what pgssl works around)', async () => {
    const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres' });
    await assert.rejects(client.connect(), /Peer authentication failed for user "postgres"/);
    await client.end().catch(() => undefined);
  });

  it('with no user given, root logs in as the socket owner\'s role, as that OS user, and is root again afterwards', async () => {
    const target = resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port) }, { HOME: '/nonexistent' });
    assert.equal(target.user, cluster.osUser.name);
    assert.equal(target.database, 'postgres');
    const user = await withClient(target, async (client) => (await client.query('SELECT current_user AS u')).rows[0].u);
    assert.equal(user, 'postgres');
    assert.equal(process.geteuid?.(), 0, 'the effective uid is root again');
  });

  it('-U postgres given explicitly works the same way', async () => {
    const target = resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port), username: 'postgres', dbname: 'postgres' }, { HOME: '/nonexistent' });
    assert.equal(await withClient(target, async (client) => (await client.query('SELECT current_user AS u')).rows[0].u), 'postgres');
  });

  it('another role keeps root\'s own identity, as libpq would: peer refuses it with the fix named', async () => {
    const asPostgres = resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port), username: 'postgres', dbname: 'postgres' }, { HOME: '/nonexistent' });
    await withClient(asPostgres, (client) => client.query('CREATE ROLE alice LOGIN'));
    const target = resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port), username: 'alice', dbname: 'postgres' }, { HOME: '/nonexistent' });
    await assert.rejects(withClient(target, async () => undefined), /Peer authentication failed for user "alice".*OS user \(root\)/);
    assert.equal(process.geteuid?.(), 0);
  });

  it('an explicit user still wins (-U / PGUSER)', () => {
    assert.equal(resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port), username: 'alice' }, { HOME: '/nonexistent' }).user, 'alice');
    assert.equal(resolveConnectionTarget({ host: cluster.socketDir, port: String(cluster.port) }, { HOME: '/nonexistent', PGUSER: 'bob' }).user, 'bob');
  });
});
