/**
 * The safety engine on real servers: rollback never loses the DBA's later
 * work, never leaves a server that cannot restart, works with the server
 * down, and finds the runs whichever of root or postgres made them; signals
 * undo a run half-way; a run that cannot write refuses before any change.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { homeOfUid } from '../../src/files/owner.js';
import { parseJsonOutput, pgsslBin, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';

const remoteHba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        0.0.0.0/0     trust
host    replication  all        0.0.0.0/0     trust
`;
const dbaLine = 'host    all          auditor    192.0.2.77/32 reject   # added by the DBA after pgssl\n';

const clusters: Cluster[] = [];
after(() => clusters.forEach((c) => c.stop()));

async function fresh(options: Parameters<typeof startCluster>[0] = { hba: remoteHba }) {
  const cluster = await startCluster(options);
  clusters.push(cluster);
  const state = join(tempDir('pgssl-rollback'), 'pgssl');
  const env = (extra: Record<string, string> = {}) => cluster.env({ PGSSL_STATE_DIR: state, ...extra });
  const pgssl = (args: string[], extra: Record<string, string> = {}) => runPgssl(args, { env: env(extra), timeoutMs: 120_000 });
  return { cluster, state, pgssl };
}

async function setting(cluster: Cluster, name: string): Promise<string> {
  return (await cluster.query<{ v: string }>(`SELECT current_setting('${name}') AS v`))[0].v;
}

describe('rollback keeps what the DBA did after pgssl', () => {
  it('stops with the diff; --merge undoes only pgssl\'s lines and settings; unrelated ALTER SYSTEMs stay', async () => {
    const { cluster, pgssl } = await fresh();
    const original = readFileSync(cluster.hbaFile, 'utf8');
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    appendFileSync(cluster.hbaFile, dbaLine);
    await cluster.query("ALTER SYSTEM SET work_mem = '7MB'");
    await cluster.query("ALTER SYSTEM SET ssl_ciphers = 'ECDHE+AESGCM:!aNULL'");
    await cluster.reload();
    const afterDba = await snapshot(cluster);

    const stopped = await pgssl(['rollback', '--non-interactive', '--json']);
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /\+host {4}all {10}auditor {4}192\.0\.2\.77\/32 reject/, 'the diff of what changed since');
    assert.match(stopped.stderr, /ssl_ciphers is 'ECDHE\+AESGCM:!aNULL' in postgresql\.auto\.conf now/);
    assert.match(stopped.stderr, /--merge[\s\S]*--force/);
    assert.equal(parseJsonOutput(stopped).changed, false);
    assert.deepEqual(await snapshot(cluster), afterDba, 'nothing was changed');

    const merged = await pgssl(['rollback', '--merge', '--json']);
    assert.equal(merged.code, 0, merged.stderr);
    assert.equal(readFileSync(cluster.hbaFile, 'utf8'), original + dbaLine, "pgssl's hostssl lines are host again; the DBA's line stays");
    assert.equal(await setting(cluster, 'work_mem'), '7MB', 'an unrelated ALTER SYSTEM is never touched');
    assert.equal(await setting(cluster, 'ssl_ciphers'), 'ECDHE+AESGCM:!aNULL', 'a pgssl setting the DBA changed since is left as they set it');
    assert.equal(await setting(cluster, 'ssl'), 'off');
    assert.ok(!existsSync(join(cluster.dataDir, 'server.key')));
    assert.match(merged.stderr, /pgssl's lines only; later edits kept/);
  });

  it('--force restores pgssl\'s backups over later edits, but still undoes settings as settings', async () => {
    const { cluster, pgssl } = await fresh();
    const before = await snapshot(cluster);
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    appendFileSync(cluster.hbaFile, dbaLine);
    await cluster.query("ALTER SYSTEM SET work_mem = '7MB'");
    await cluster.reload();
    const forced = await pgssl(['rollback', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await setting(cluster, 'work_mem'), '7MB');
    await cluster.query('ALTER SYSTEM RESET work_mem');
    await cluster.reload();
    assert.deepEqual(await snapshot(cluster), before, 'byte-identical to before enable');
  });
});

describe('rollback never leaves a server that cannot restart', () => {
  it('keeps certificate files that postgresql.conf names by then, and the server restarts with TLS', async () => {
    const { cluster, state, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    // The DBA likes the files and makes them part of postgresql.conf, independent of ALTER SYSTEM.
    appendFileSync(cluster.confFile, "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n");
    await cluster.reload();
    const r = await pgssl(['rollback', '--non-interactive']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kept .*server\.key: ssl_key_file in force still names it/);
    for (const name of ['server.crt', 'server.key', 'root.crt']) assert.ok(existsSync(join(cluster.dataDir, name)), name);
    cluster.restart();
    const tls = psql(`host=localhost port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(state, 'ca.crt')}`, 'SELECT 1');
    assert.equal(tls.code, 0, tls.stderr);
  });

  it('with its backups gone, says what it could not restore (exit 1) and still leaves a server that restarts', async () => {
    const { cluster, state, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const runs = join(state, 'runs', readdirSync(join(state, 'runs'))[0]);
    for (const name of readdirSync(runs)) if (name.endsWith('.backups')) rmSync(join(runs, name), { recursive: true });
    const r = await pgssl(['rollback', '--non-interactive']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /could not undo: .*pg_hba\.conf: .*no such file/i);
    assert.equal(await setting(cluster, 'ssl'), 'off', 'settings need no backup: undone as settings');
    cluster.restart();
    assert.equal((await cluster.query<{ one: number }>('SELECT 1 AS one'))[0].one, 1);
  });
});

describe('rollback with the server down (-D)', () => {
  it('restores files and writes the settings as ALTER SYSTEM would; the server then starts as before', async () => {
    const { cluster, pgssl } = await fresh({ hba: remoteHba, debianLayout: true });
    const before = await snapshot(cluster);
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    cluster.runAsServer('pg_ctl', ['-D', cluster.configDir, 'stop', '-m', 'fast', '-w']);
    const refusedWhileUp = await pgssl(['rollback', '-D', cluster.dataDir]);
    assert.equal(refusedWhileUp.code, 0, `stopped now: ${refusedWhileUp.stderr}`);
    assert.match(refusedWhileUp.stdout, /Start the server/);
    cluster.runAsServer('pg_ctl', ['-D', cluster.configDir, '-l', cluster.logFile, 'start', '-w', '-t', '60']);
    assert.deepEqual(await snapshot(cluster), before, 'byte-identical files (postgresql.auto.conf included) and settings');
  });

  it('refuses while the server runs, changing nothing', async () => {
    const { cluster, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const enabled = await snapshot(cluster);
    const r = await pgssl(['rollback', '-D', cluster.dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is running \(postmaster pid \d+\); nothing was changed.*without -D/);
    assert.deepEqual(await snapshot(cluster), enabled);
  });
});

describe('journals belong to one server', () => {
  it('a journal of another server with the same system identifier (a standby: other port) is not replayed', async () => {
    const { cluster, state, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    assert.equal((await pgssl(['rollback', '--non-interactive'])).code, 0);
    const runs = join(state, 'runs', readdirSync(join(state, 'runs'))[0]);
    const mine = readdirSync(runs).find((n) => n.endsWith('.json'))!;
    const foreign = JSON.parse(readFileSync(join(runs, mine), 'utf8'));
    foreign.server.port += 1;
    foreign.status = 'applied';
    foreign.undoneEntries = [];
    writeFileSync(join(runs, 'z-standby-enable.json'), JSON.stringify(foreign));
    const before = await snapshot(cluster);
    const r = await pgssl(['rollback', '--non-interactive']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nothing to roll back/);
    assert.deepEqual(await snapshot(cluster), before);
  });
});

describe('root and the postgres OS user find the same runs', () => {
  it('enable as root, rollback as the data directory owner', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root (and a postgres OS user) to run as both');
    const { cluster } = await fresh();
    const home = homeOfUid(cluster.osUser.uid);
    if (!home || cluster.osUser.uid === 0) return t.skip('the server runs as root here: there is no second user');
    const stateDir = join(home, '.local', 'state', 'pgssl');
    const existed = { state: existsSync(stateDir), ca: existsSync(join(stateDir, 'ca.crt')), local: existsSync(join(home, '.local')) };
    const sysid = (await cluster.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()'))[0].id;
    try {
      const before = await snapshot(cluster);
      const asRoot = await runPgssl(['enable', '--yes', '--json'], { env: cluster.env({ HOME: tempDir('pgssl-root-home') }), timeoutMs: 120_000 });
      assert.equal(asRoot.code, 0, asRoot.stderr);
      const journal = parseJsonOutput(asRoot).journal as string;
      assert.ok(journal.startsWith(join(stateDir, 'runs', sysid)), `the journal is in the owner's state folder: ${journal}`);
      assert.equal(statSync(journal).uid, cluster.osUser.uid, 'owned by the data directory owner');
      if (!existed.ca) assert.equal(statSync(join(stateDir, 'ca.key')).uid, cluster.osUser.uid, "pgssl's CA too: postgres signs with it later");
      assert.equal(statSync(join(home, '.local')).uid, existed.local ? statSync(join(home, '.local')).uid : cluster.osUser.uid, 'folders created for the owner are the owner\'s');

      const elsewhere = await runPgssl(['rollback', '--non-interactive'], { env: cluster.env({ PGSSL_STATE_DIR: join(tempDir('pgssl-empty'), 'pgssl') }) });
      assert.equal(elsewhere.code, 1, 'nothing here, but an applied run elsewhere: not exit 0');
      assert.match(elsewhere.stdout + elsewhere.stderr, new RegExp(`there is one in ${stateDir.replace(/[.]/g, '\\.')}`));

      const asOwner = spawnSync(process.execPath, [pgsslBin, 'rollback', '--non-interactive'], {
        env: cleanEnv({ HOME: home, PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres' }),
        uid: cluster.osUser.uid,
        gid: cluster.osUser.gid,
        encoding: 'utf8',
        cwd: '/',
      });
      assert.equal(asOwner.status, 0, asOwner.stderr + asOwner.stdout);
      assert.match(asOwner.stdout, /you can still connect as before/);
      assert.deepEqual(await snapshot(cluster), before);
    } finally {
      rmSync(join(stateDir, 'runs', sysid), { recursive: true, force: true });
      if (!existed.ca) for (const name of ['ca.crt', 'ca.key']) rmSync(join(stateDir, name), { force: true });
      if (!existed.state && readdirSync(join(stateDir, 'runs')).length === 0) rmSync(existed.local ? stateDir : join(home, '.local'), { recursive: true, force: true });
    }
  });
});

describe('signals undo a run half-way', () => {
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    it(`${signal} after the first settings: stops after the current action, undoes in reverse, exit 1`, async () => {
      const { cluster, state, pgssl } = await fresh();
      const before = await snapshot(cluster);
      const r = await pgssl(['enable', '--yes', '--json'], { PGSSL_TEST_AFTER_JOURNAL_WRITE: `6:${signal}` });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`stopped by ${signal}; every change was undone`));
      const report = parseJsonOutput(r);
      assert.equal(report.changed, false);
      assert.equal(report.error.id, 'CANCELLED');
      assert.deepEqual(await snapshot(cluster), before);
      const runs = join(state, 'runs', readdirSync(join(state, 'runs'))[0]);
      const journal = JSON.parse(readFileSync(join(runs, readdirSync(runs).find((n) => n.endsWith('.json'))!), 'utf8'));
      assert.equal(journal.status, 'undone');
    });
  }
});

describe('a run that cannot write refuses before any change', () => {
  it('an immutable pg_hba.conf (chattr +i): exit 1 naming the file and the fix; nothing changed, no journal', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root for chattr');
    const { cluster, state, pgssl } = await fresh();
    const chattr = spawnSync('chattr', ['+i', cluster.hbaFile], { encoding: 'utf8' });
    if (chattr.status !== 0) return t.skip(`chattr +i is not supported here: ${chattr.stderr.trim()}`);
    try {
      const before = await snapshot(cluster);
      const r = await pgssl(['enable', '--yes', '--json']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`pgssl cannot write a file it needs, so it changed nothing:[\\s\\S]*${cluster.hbaFile.replace(/[.]/g, '\\.')}[\\s\\S]*chattr -i`));
      assert.doesNotMatch(r.stderr, /bug in pgssl|unexpected error/);
      const report = parseJsonOutput(r);
      assert.equal(report.changed, false);
      assert.equal(report.error.id, 'OPERATIONAL');
      assert.deepEqual(await snapshot(cluster), before);
      assert.ok(!existsSync(join(state, 'runs')), 'no journal was started');
    } finally {
      spawnSync('chattr', ['-i', cluster.hbaFile]);
    }
  });

  it('a state folder that cannot be created: exit 1, nothing changed', async () => {
    const { cluster, pgssl } = await fresh();
    const blocker = join(tempDir('pgssl-blocked'), 'a-file');
    writeFileSync(blocker, 'not a folder\n');
    const before = await snapshot(cluster);
    const r = await pgssl(['enable', '--yes'], { PGSSL_STATE_DIR: join(blocker, 'pgssl') });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /a-file/);
    assert.doesNotMatch(r.stderr, /bug in pgssl|unexpected error/);
    assert.deepEqual(await snapshot(cluster), before);
  });
});

