/** The built CLI as a user runs it: version, help, bad usage, and connection failures explained. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runPgssl } from '../support/cli.js';
import { cleanEnv, freePort, startCluster, type Cluster } from '../support/cluster.js';
import { repoRoot } from '../support/pgbin.js';

const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;

describe('CLI surface', () => {
  it('prints the version', async () => {
    const r = await runPgssl(['--version'], { env: cleanEnv() });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  });
  it('shows help with examples and exit codes', async () => {
    const r = await runPgssl(['--help'], { env: cleanEnv() });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes: 0/);
    const s = await runPgssl(['status', '--help'], { env: cleanEnv() });
    assert.match(s.stdout, /-h, --host/);
    assert.match(s.stdout, /sudo -u postgres pgssl status/);
  });
  it('exits 2 on an unknown option or a bad value', async () => {
    const r = await runPgssl(['status', '--frobnicate'], { env: cleanEnv() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option '--frobnicate'/);
    // Subcommands of subcommands too: commander copies the override only into commands created after it.
    for (const args of [['hba', 'check', '--bogus', 'x'], ['cert', 'inspect'], ['enable', '--min-tls', '1.1']]) {
      const nested = await runPgssl(args, { env: cleanEnv() });
      assert.equal(nested.code, 2, `pgssl ${args.join(' ')}: ${nested.stderr}`);
    }
    const p = await runPgssl(['status', '-p', 'abc'], { env: cleanEnv() });
    assert.equal(p.code, 2);
    assert.match(p.stderr, /invalid port "abc"/);
  });
});

describe('connection failures explain themselves (exit 1)', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({
      auth: 'scram',
      password: 'right-password',
      hba: 'local all postgres trust\nlocal all peeruser peer\nhost all all 127.0.0.1/32 scram-sha-256\n',
    });
    await cluster.query('CREATE ROLE peeruser LOGIN SUPERUSER');
  });
  after(() => cluster?.stop());
  const tcp = () => ({ PGHOST: '127.0.0.1', PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', HOME: mkdtempSync(join(tmpdir(), 'home-')) });

  it('server down: connection refused, with what to check', async () => {
    const port = await freePort();
    const r = await runPgssl(['status', '-h', '127.0.0.1', '-p', String(port)], { env: cleanEnv({ HOME: '/nonexistent' }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}: connection refused\\. Is the server running`));
  });
  it('no socket for that port: names the directories tried', async () => {
    const port = await freePort();
    const r = await runPgssl(['status', '-h', cluster.socketDir, '-p', String(port)], { env: cleanEnv({ HOME: '/nonexistent' }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no server socket|There is no server socket/i);
    assert.match(r.stderr, /-p PORT/);
  });
  it('wrong password: says so and how to give the right one', async () => {
    const r = await runPgssl(['status'], { env: cleanEnv({ ...tcp(), PGPASSWORD: 'wrong' }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /password authentication failed for user "postgres"/);
    assert.match(r.stderr, /PGPASSWORD/);
  });
  it('no password and no terminal: fails at once instead of waiting', async () => {
    const r = await runPgssl(['status'], { env: cleanEnv(tcp()) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /asks for a password .* none was given/);
  });
  it('PGPASSWORD, a conninfo string and ~/.pgpass all connect', async () => {
    const withEnv = await runPgssl(['status', '--json'], { env: cleanEnv({ ...tcp(), PGPASSWORD: 'right-password' }) });
    assert.equal(JSON.parse(withEnv.stdout).connection.host, '127.0.0.1');
    const conninfo = await runPgssl(['status', '--json', '-d', `host=127.0.0.1 port=${cluster.port} user=postgres password=right-password dbname=postgres`], { env: cleanEnv({ HOME: '/nonexistent' }) });
    assert.equal(JSON.parse(conninfo.stdout).server.currentUser, 'postgres');
    const env = tcp();
    const passfile = join(env.HOME, '.pgpass');
    writeFileSync(passfile, `127.0.0.1:${cluster.port}:*:postgres:right-password\n`, { mode: 0o600 });
    const pgpass = await runPgssl(['status', '--json'], { env: cleanEnv(env) });
    assert.ok([0, 3].includes(pgpass.code!), pgpass.stderr);
    chmodSync(passfile, 0o644);
    const loose = await runPgssl(['status'], { env: cleanEnv(env) });
    assert.equal(loose.code, 1);
    assert.match(loose.stderr, /has group or world access/);
  });
  it('peer authentication failure: hints at running as the matching OS user', async () => {
    const r = await runPgssl(['status', '-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'peeruser'], { env: cleanEnv({ HOME: '/nonexistent' }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Peer authentication failed/);
    assert.match(r.stderr, /sudo -u postgres pgssl/);
  });
  it('unknown database: says to name one with -d', async () => {
    const r = await runPgssl(['status', '-d', 'nosuchdb'], { env: cluster.env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /database "nosuchdb" does not exist.*-d/);
  });
});
