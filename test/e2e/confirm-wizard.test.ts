/**
 * The wizard with a confirm window, in a real terminal (tmux): after the run
 * it counts down; Enter confirms (as pgssl confirm does, in a new session),
 * and letting the time run out ends in the watchdog's revert (exit 3).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { pgsslBin } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { connectFrom } from '../support/connectFrom.js';
import { TmuxSession } from '../support/tmux.js';
import { tempDir } from '../support/tempDir.js';

const hba = 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n';

function lastJournal(state: string): any {
  const runs = join(state, 'runs');
  const dir = join(runs, readdirSync(runs)[0]);
  return JSON.parse(readFileSync(join(dir, readdirSync(dir).filter((n) => n.endsWith('.json')).sort().at(-1)!), 'utf8'));
}

async function wizardUpToCountdown(cluster: Cluster, state: string, seconds: number): Promise<TmuxSession> {
  const session = new TmuxSession(`${process.execPath} ${pgsslBin} enable --confirm-within ${seconds}`, {
    PGHOST: cluster.socketDir,
    PGPORT: String(cluster.port),
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
    PGSSL_STATE_DIR: state,
    HOME: state,
    TERM: 'xterm-256color',
  });
  await session.waitFor(/Which certificate should the server use\?/);
  session.keys('Enter');
  await session.waitFor(/Other names or IPs clients use/);
  session.keys('Enter');
  await session.waitFor(/Also require TLS on the 1 loopback-only host rule\(s\)/);
  session.keys('Enter');
  await session.waitFor(/Which pg_hba\.conf rules should require TLS\?/);
  session.keys('Enter');
  await session.waitFor(/Apply these changes now\?/);
  session.keys('Enter');
  await session.waitFor(/Press Enter to keep these changes .*reverted by itself in +\d+ s/, 90_000);
  return session;
}

it('wizard countdown: Enter confirms, the run is kept', { timeout: 180_000 }, async () => {
  const cluster = await startCluster({ hba });
  const state = join(tempDir('pgssl-state'), 'pgssl');
  let session: TmuxSession | undefined;
  try {
    session = await wizardUpToCountdown(cluster, state, 120);
    session.keys('Enter');
    const end = await session.waitFor(/EXIT=\d+/, 60_000);
    assert.match(end, /confirmed: the run in .* is kept; its watchdog is stopped/);
    assert.match(end, /EXIT=0/);
    assert.equal(lastJournal(state).confirm.state, 'confirmed');
    assert.match(lastJournal(state).confirm.reason, /confirmed by pgssl confirm as postgres@/);
    assert.match(await connectFrom(cluster, '127.0.0.2', false), /no encryption/);
  } finally {
    session?.close();
    cluster.stop();
  }
});

it('wizard countdown: nobody presses Enter, the watchdog reverts (exit 3)', { timeout: 180_000 }, async () => {
  const cluster = await startCluster({ hba });
  const state = join(tempDir('pgssl-state'), 'pgssl');
  let session: TmuxSession | undefined;
  try {
    session = await wizardUpToCountdown(cluster, state, 8);
    const end = await session.waitFor(/EXIT=\d+/, 120_000);
    assert.match(end, /not confirmed in time: the watchdog reverts the whole run now/);
    assert.match(end, /EXIT=3/);
    assert.equal(lastJournal(state).confirm.state, 'reverted');
    assert.equal(await connectFrom(cluster, '127.0.0.2', false), 'connected');
  } finally {
    session?.close();
    cluster.stop();
  }
});
