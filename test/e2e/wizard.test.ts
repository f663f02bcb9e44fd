/**
 * The interactive wizard in a real pseudo-terminal (tmux): `pgssl` alone
 * starts it; the test answers each question as a DBA would (Enter = the
 * default), sees the coloured pg_hba.conf diff before confirming, and the run
 * ends compliant.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { pgsslBin } from '../support/cli.js';
import { startCluster } from '../support/cluster.js';
import { TmuxSession } from '../support/tmux.js';
import { tempDir } from '../support/tempDir.js';

it('pgssl on a terminal: answers, sees the diff, ends compliant', { timeout: 120_000 }, async () => {
  const cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
  const state = join(tempDir('pgssl-state'), 'pgssl');
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
    await session.waitFor(/Also require TLS on the 1 loopback-only host rule\(s\)/);
    session.keys('Enter');
    await session.waitFor(/Which pg_hba\.conf rules should require TLS\?/);
    session.keys('Enter');
    const plan = await session.waitFor(/Apply these changes now\?/);
    assert.match(plan, /Step 2 of 7 — Certificates/);
    assert.match(plan, /names: .*DNS:db1\.example\.com/);
    assert.match(plan, /-host all all 0\.0\.0\.0\/0 trust\n.*\+hostssl all all 0\.0\.0\.0\/0 trust/s);
    assert.match(plan, /keep .*:2: host all all 127\.0\.0\.1\/32 trust — loopback only/, 'the loopback rule stays, as answered');
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

it('Ctrl-C before any change exits cleanly; after changes it offers the undo', { timeout: 120_000 }, async () => {
  const { snapshot } = await import('../support/snapshot.js');
  const pg = (await import('pg')).default;
  const cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
  const state = join(tempDir('pgssl-state'), 'pgssl');
  const env = { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: state, HOME: state, TERM: 'xterm-256color' };
  // A client without TLS, so that the wizard asks about live sessions after its changes.
  const legacy = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', ssl: false, application_name: 'legacy' });
  await legacy.connect();
  legacy.on('error', () => undefined);
  const before = await snapshot(cluster);
  try {
    const early = new TmuxSession(`${process.execPath} ${pgsslBin} enable`, env);
    try {
      await early.waitFor(/Which certificate should the server use\?/);
      early.keys('C-c');
      const end = await early.waitFor(/EXIT=\d+/);
      assert.match(end, /cancelled; nothing was changed/);
      assert.match(end, /EXIT=1/);
    } finally {
      early.close();
    }
    assert.deepEqual(await snapshot(cluster), before);

    const late = new TmuxSession(`${process.execPath} ${pgsslBin} enable`, env);
    try {
      await late.waitFor(/Which certificate should the server use\?/);
      late.keys('Enter');
      await late.waitFor(/Other names or IPs clients use/);
      late.keys('Enter');
      await late.waitFor(/Also require TLS on the 1 loopback-only host rule\(s\)/);
      late.keys('Enter');
      await late.waitFor(/Which pg_hba\.conf rules should require TLS\?/);
      late.keys('Enter');
      await late.waitFor(/Apply these changes now\?/);
      late.keys('Enter');
      await late.waitFor(/End which sessions now\?/, 60_000);
      late.keys('C-c');
      await late.waitFor(/Stopped\. Undo the changes made so far\?/);
      late.keys('Enter');
      const end = await late.waitFor(/EXIT=\d+/, 60_000);
      assert.match(end, /restored .*pg_hba\.conf/);
      assert.match(end, /cancelled; every change was undone/);
      assert.match(end, /EXIT=1/);
    } finally {
      late.close();
    }
    assert.deepEqual(await snapshot(cluster), before, 'byte-identical after the offered undo');
  } finally {
    await legacy.end().catch(() => undefined);
    cluster.stop();
  }
});

it('the wizard installs certificate files the DBA already has', { timeout: 120_000 }, async () => {
  const { opensslServerCert } = await import('../support/cluster.js');
  const cluster = await startCluster({ hba: 'local all all trust\nhost all all 0.0.0.0/0 trust\n' });
  const state = join(tempDir('pgssl-state'), 'pgssl');
  const own = opensslServerCert(tempDir('pgssl-own'), { days: 90 });
  const session = new TmuxSession(`${process.execPath} ${pgsslBin} enable`, { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: state, HOME: state, TERM: 'xterm-256color' });
  const type = (text: string) => session.keys('-l', text);
  try {
    await session.waitFor(/Which certificate should the server use\?/);
    session.keys('Down', 'Down', 'Enter');
    await session.waitFor(/Server certificate file \(PEM\):/);
    type(own.cert);
    session.keys('Enter');
    await session.waitFor(/Its private key file \(PEM\):/);
    type(own.key);
    session.keys('Enter');
    await session.waitFor(/CA certificate that signed it/);
    type(own.ca);
    session.keys('Enter');
    await session.waitFor(/Other names or IPs clients use/);
    session.keys('Enter');
    await session.waitFor(/Which pg_hba\.conf rules should require TLS\?/);
    session.keys('Enter');
    await session.waitFor(/Apply these changes now\?/);
    session.keys('Enter');
    const end = await session.waitFor(/EXIT=\d+/, 60_000);
    assert.match(end, /use your files .*test-server\.crt/);
    assert.match(end, /COMPLIANT/);
    assert.match(end, /EXIT=0/);
  } finally {
    session.close();
    cluster.stop();
  }
});

it('deselecting every remote rule warns that the result will not be compliant', { timeout: 120_000 }, async () => {
  const cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
  const state = join(tempDir('pgssl-state'), 'pgssl');
  const session = new TmuxSession(`${process.execPath} ${pgsslBin} enable --include-loopback`, { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: state, HOME: state, TERM: 'xterm-256color' });
  try {
    await session.waitFor(/Which certificate should the server use\?/);
    session.keys('Enter');
    await session.waitFor(/Other names or IPs clients use/);
    session.keys('Enter');
    await session.waitFor(/Which pg_hba\.conf rules should require TLS\?/);
    // 'a' toggles every choice: all were checked, now none is.
    session.keys('a', 'Enter');
    const plan = await session.waitFor(/Apply these changes now\?/);
    assert.match(plan, /no rule was chosen: remote clients will still get in without TLS, and the server will not be compliant/);
    session.keys('n', 'Enter');
    await session.waitFor(/EXIT=\d+/, 60_000);
  } finally {
    session.close();
    cluster.stop();
  }
});

it('rollback on a terminal shows what changed since pgssl and asks: undo only pgssl\'s lines keeps the DBA\'s', { timeout: 120_000 }, async () => {
  const { appendFileSync, readFileSync } = await import('node:fs');
  const { runPgssl } = await import('../support/cli.js');
  const hba = 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n';
  const cluster = await startCluster({ hba });
  const state = join(tempDir('pgssl-state'), 'pgssl');
  const env = { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: state, HOME: state, TERM: 'xterm-256color' };
  assert.equal((await runPgssl(['enable', '--yes'], { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 120_000 })).code, 0);
  const added = 'host all auditor 192.0.2.77/32 reject\n';
  appendFileSync(cluster.hbaFile, added);
  const session = new TmuxSession(`${process.execPath} ${pgsslBin} rollback`, env);
  try {
    const asked = await session.waitFor(/What now\?/);
    assert.match(asked, /changed after pgssl wrote it/);
    assert.match(asked, /\+host all auditor 192\.0\.2\.77\/32 reject/);
    // The first choice: undo only pgssl's own lines.
    session.keys('Enter');
    const end = await session.waitFor(/EXIT=\d+/, 60_000);
    assert.match(end, /EXIT=0/);
    assert.equal(readFileSync(cluster.hbaFile, 'utf8'), hba + added);
  } finally {
    session.close();
    cluster.stop();
  }
});
