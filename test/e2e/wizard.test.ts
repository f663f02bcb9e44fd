/**
 * The interactive wizard in a real pseudo-terminal (tmux): `pgssl` alone
 * starts it; the test answers each question as a DBA would (Enter = the
 * default), sees the coloured pg_hba.conf diff before confirming, and the run
 * ends compliant.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { pgsslBin } from '../support/cli.js';
import { startCluster } from '../support/cluster.js';
import { TmuxSession } from '../support/tmux.js';

it('pgssl on a terminal: answers, sees the diff, ends compliant', { timeout: 120_000 }, async () => {
  const cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
  const state = join(mkdtempSync(join(tmpdir(), 'pgssl-state-')), 'pgssl');
  const session = new TmuxSession(`${process.execPath} ${pgsslBin}`, {
    PGHOST: cluster.socketDir,
    PGPORT: String(cluster.port),
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
    PGSSL_STATE_DIR: state,
    HOME: state,
    TERM: 'xterm-256color',
    FORCE_COLOR: '1',
  });
  try {
    await session.waitFor(/Which certificate should the server use\?/);
    session.keys('Enter');
    await session.waitFor(/Other names or IPs clients use/);
    session.keys('d', 'b', '1', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 'Enter');
    await session.waitFor(/Which pg_hba\.conf rules should require TLS\?/);
    session.keys('Enter');
    const plan = await session.waitFor(/Apply these changes now\?/);
    assert.match(plan, /Step 2 of 7 — Certificates/);
    assert.match(plan, /names: .*DNS:db1\.example\.com/);
    assert.match(plan, /-host all all 0\.0\.0\.0\/0 trust\n.*\+hostssl all all 0\.0\.0\.0\/0 trust/s);
    assert.match(session.screen(true), /\x1b\[32m\+hostssl all all 0\.0\.0\.0\/0 trust/, 'the added line is green');
    session.keys('Enter');
    const end = await session.waitFor(/EXIT=\d+/, 60_000);
    assert.match(end, /COMPLIANT: TLS works and no remote client can connect without it/);
    assert.match(end, /EXIT=0/);
  } finally {
    session.close();
    cluster.stop();
  }
});
