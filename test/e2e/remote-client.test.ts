/**
 * A real remote client: a network namespace joined by a veth pair gives a
 * client host at 198.51.100.2 and the server 198.51.100.1, so the `host` rule
 * for 198.51.100.0/24 is exercised by connections from outside loopback.
 * Needs root (ip netns); cleaned up afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster } from '../support/cluster.js';
import { psqlPath } from '../support/pgbin.js';

it('a client in another network namespace: plain before, refused plain and verify-full TLS after', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to create a network namespace');
  const id = randomBytes(3).toString('hex');
  const ns = `pgssl-${id}`;
  const hostIf = `pgh${id}`;
  const clientIf = `pgc${id}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    ip('netns', 'add', ns);
  } catch (error) {
    return t.skip(`ip netns is not available here: ${(error as Error).message.split('\n')[0]}`);
  }
  let cluster;
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', clientIf);
    ip('link', 'set', clientIf, 'netns', ns);
    ip('addr', 'add', '198.51.100.1/24', 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', '198.51.100.2/24', 'dev', clientIf);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', clientIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');

    cluster = await startCluster({
      listenAddresses: '127.0.0.1,198.51.100.1',
      hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 198.51.100.0/24 trust\n',
    });
    const fromClient = (conninfo: string) =>
      spawnSync('ip', ['netns', 'exec', ns, psqlPath(), '-X', '-At', '-d', `host=198.51.100.1 port=${cluster!.port} user=postgres dbname=postgres ${conninfo}`, '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
        env: cleanEnv({ HOME: '/nonexistent' }),
        encoding: 'utf8',
        timeout: 20_000,
      });

    const before = fromClient('sslmode=disable');
    assert.equal(before.status, 0, before.stderr);
    assert.equal(before.stdout.trim(), 'f', 'the remote client gets in without TLS before');

    const state = join(mkdtempSync(join(tmpdir(), 'pgssl-state-')), 'pgssl');
    const r = await runPgssl(['enable', '--yes', '--json', '--san', '198.51.100.1'], { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.deepEqual(report.hba.changes.map((c: { line: number }) => c.line), [3]);
    assert.equal(report.verification.enforcement.attempts[0]?.source, '198.51.100.1', 'pgssl proved it from the host\'s own address in that network');

    const plain = fromClient('sslmode=disable');
    assert.notEqual(plain.status, 0);
    assert.match(plain.stderr, /no pg_hba\.conf entry for host "198\.51\.100\.2".*no encryption/);
    const verified = fromClient(`sslmode=verify-full sslrootcert=${join(state, 'ca.crt')}`);
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal(verified.stdout.trim(), 't');
  } finally {
    cluster?.stop();
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', hostIf]);
  }
});
