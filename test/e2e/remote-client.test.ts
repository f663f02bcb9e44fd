/**
 * A real remote client: a network namespace joined by a veth pair
 * (test/support/netns.ts: point-to-point addresses from a /30 that collides
 * with nothing on this machine), so the `host` rule for that /30 is exercised
 * by connections from outside loopback. Needs root (ip netns); cleaned up afterwards.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it, type TestContext } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { machineNetworks, withRemoteClient } from '../support/netns.js';
import { psqlPath } from '../support/pgbin.js';
import { tempDir } from '../support/tempDir.js';

it('a client in another network namespace: plain before, refused plain and verify-full TLS after', { timeout: 120_000 }, async (t) => {
  await withRemoteClient(t, async (client) => {
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster({
        listenAddresses: `127.0.0.1,${client.serverAddress}`,
        hba: `local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ${client.hbaNetwork} trust\n`,
      });
      const port = cluster.port;
      const fromClient = (conninfo: string) =>
        client.run(psqlPath(), ['-X', '-At', '-d', `host=${client.serverAddress} port=${port} user=postgres dbname=postgres ${conninfo}`, '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
          env: cleanEnv({ HOME: '/nonexistent' }),
        });

      const before = fromClient('sslmode=disable');
      assert.equal(before.status, 0, before.stderr);
      assert.equal(before.stdout.trim(), 'f', 'the remote client gets in without TLS before');

      const state = join(tempDir('pgssl-state'), 'pgssl');
      const r = await runPgssl(['enable', '--yes', '--json', '--san', client.serverAddress], { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      const report = parseJsonOutput(r);
      assert.deepEqual(report.hba.changes.map((c: { line: number }) => c.line), [3]);
      assert.equal(report.verification.enforcement.attempts[0]?.source, client.serverAddress, "pgssl proved it from the host's own address in that network");

      const plain = fromClient('sslmode=disable');
      assert.notEqual(plain.status, 0);
      assert.match(plain.stderr, new RegExp(`no pg_hba\\.conf entry for host "${client.clientAddress.replace(/\./g, '\\.')}".*no encryption`));
      const verified = fromClient(`sslmode=verify-full sslrootcert=${join(state, 'ca.crt')}`);
      assert.equal(verified.status, 0, verified.stderr);
      assert.equal(verified.stdout.trim(), 't');
    } finally {
      cluster?.stop();
    }
  });
});

it("refuses addresses this machine uses (here: its default gateway or own address) before making a namespace", async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root, as withRemoteClient does');
  const machine = await machineNetworks();
  const taken = machine.routes.find((r) => r.dst === 'default' && r.gateway)?.gateway ?? machine.interfaces.flatMap((i) => i.addr_info ?? []).find((a) => a.family === 'inet')?.local;
  if (!taken) return t.skip('this machine has neither a default gateway nor an IPv4 address to collide with');
  let ran = false;
  let skipped: string | undefined;
  // A context that records the skip instead of skipping this test.
  const probe = { skip: (reason: string) => void (skipped = reason) } as unknown as TestContext;
  await withRemoteClient(probe, async () => void (ran = true), { server: taken, client: '198.51.100.2', hbaNetwork: '198.51.100.0/30' });
  assert.equal(ran, false, 'the body never ran: no namespace, no veth, no address');
  assert.match(skipped ?? '', new RegExp(`refusing to put test addresses on this machine: ${taken.replace(/\./g, '\\.')} is `));
});
