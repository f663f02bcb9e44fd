/** The built CLI as a user runs it: version, help, bad usage, and connection failures explained. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pgsslBin, runPgssl } from '../support/cli.js';
import { cleanEnv, freePort, startCluster, type Cluster } from '../support/cluster.js';
import { repoRoot } from '../support/pgbin.js';
import { tempDir } from '../support/tempDir.js';

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
    assert.match(p.stderr, /--port abc: expected a port number from 1 to 65535/);
  });
});

describe('bad option values: one message with every problem, exit 2, before connecting', () => {
  // PGHOST names a folder with no server socket in it: a command that got as far
  // as connecting would fail with "no server socket" (exit 1), as the first case shows.
  const noServer = tempDir('pgssl-no-server');
  const work = tempDir('pgssl-bad-flags');
  const state = join(work, 'state');
  const env = () => cleanEnv({ PGHOST: noServer, PGPORT: '5432', PGUSER: 'postgres', HOME: work, PGSSL_STATE_DIR: state });
  const hbaFile = join(work, 'pg_hba.conf');
  writeFileSync(hbaFile, 'host all all 0.0.0.0/0 trust\n');

  it('control: the same environment with good flags does try to connect', async () => {
    const r = await runPgssl(['enable', '--yes', '--days', '30'], { env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no server socket/i);
  });

  const cases: [string[], RegExp][] = [
    [['enable', '--yes', '--days', 'abc'], /^pgssl: error: --days abc: expected a whole number of days from 1 to 3650$/m],
    [['enable', '--yes', '--days', '0'], /^pgssl: error: --days 0: expected a whole number of days from 1 to 3650$/m],
    [['enable', '--yes', '--days', '99999999'], /^pgssl: error: --days 99999999: expected a whole number of days from 1 to 3650$/m],
    [['enable', '--yes', '--walsender-wait', 'x'], /^pgssl: error: --walsender-wait x: expected a whole number of seconds from 0 to 3600$/m],
    [['status', '--expiry-warn-days', 'x'], /^pgssl: error: --expiry-warn-days x: expected a whole number of days from 0 to 3650$/m],
    [['cert', 'inspect', hbaFile, '--expiry-warn-days', '-1'], /^pgssl: error: --expiry-warn-days -1: expected a whole number of days from 0 to 3650$/m],
    [['enable', '--yes', '--pg-major', '11'], /^pgssl: error: --pg-major 11: expected one of 12, 13, 14, 15, 16, 17, 18$/m],
    [['hba', 'check', hbaFile, '--pg-major', '11'], /^pgssl: error: --pg-major 11: expected one of 12, 13, 14, 15, 16, 17, 18$/m],
    [['enable', '--yes', '--san', 'bad name'], /^pgssl: error: --san "bad name": expected a DNS name .* or an IPv4\/IPv6 address$/m],
    [['enable', '--yes', '--san', '300.1.1.1'], /^pgssl: error: --san 300\.1\.1\.1: expected a DNS name .* or an IPv4\/IPv6 address$/m],
    [['enable', '--yes', '--san', '-x'], /^pgssl: error: --san -x: expected a DNS name .* or an IPv4\/IPv6 address$/m],
    [['enable', '--yes', '--san', 'IP:db1.example.com'], /^pgssl: error: --san IP:db1\.example\.com: expected an IPv4 or IPv6 address after IP:$/m],
    [['enable', '--yes', '-p', '70000'], /^pgssl: error: --port 70000: expected a port number from 1 to 65535$/m],
    [['enable', '--yes', '--min-tls', '1.1'], /^pgssl: error: --min-tls 1\.1: expected one of 1\.2, 1\.3$/m],
    [['hba', 'explain', '--user', 'u', '--db', 'd', '--addr', 'db1'], /^pgssl: error: --addr db1: expected an IPv4 or IPv6 address$/m],
  ];
  for (const [args, message] of cases) {
    it(`pgssl ${args.map((a) => (a === hbaFile ? 'FILE' : a)).join(' ')}`, async () => {
      const r = await runPgssl(args, { env: env() });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\n\(run with --help for usage\)\n$/);
      assert.doesNotMatch(r.stderr, /socket|connect|\bat .*\.js:\d+/i, 'about the flags, not the connection, and no stack trace');
      assert.equal(r.stdout, '');
      assert.equal(existsSync(state), false, 'no state folder, CA or journal was made');
    });
  }

  it('reports every bad flag at once, in one message', async () => {
    const r = await runPgssl(['enable', '--yes', '--json', '--days', 'abc', '--walsender-wait', 'x', '--san', 'db1.example.com', '--san', 'bad name', '--pg-major', '11', '--rsa-bits', '1024'], { env: env() });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.deepEqual(lines, [
      // In the order the command declares its options (enable --help).
      'pgssl: error: 5 invalid options:',
      '  --pg-major 11: expected one of 12, 13, 14, 15, 16, 17, 18',
      '  --san "bad name": expected a DNS name (letters, digits, hyphens and dots, optionally *. first) or an IPv4/IPv6 address',
      '  --days abc: expected a whole number of days from 1 to 3650',
      '  --rsa-bits 1024: expected one of 2048, 3072, 4096',
      '  --walsender-wait x: expected a whole number of seconds from 0 to 3600',
      '(run with --help for usage)',
    ]);
    assert.equal(existsSync(state), false);
  });

  it('client-cert --days 0 writes no certificate', async () => {
    const out = tempDir('pgssl-client-out');
    const r = await runPgssl(['client-cert', 'alice', '--days', '0', '--out-dir', out], { env: env() });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^pgssl: error: --days 0: expected a whole number of days from 1 to 3650$/m);
    assert.deepEqual(readdirSync(out), []);
    assert.equal(existsSync(state), false, 'no CA was made either');
  });

  it("commander's own usage errors read the same way", async () => {
    const r = await runPgssl(['enable', '--frobnicate'], { env: env() });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "pgssl: error: unknown option '--frobnicate'\n(run with --help for usage)\n");
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
  const tcp = () => ({ PGHOST: '127.0.0.1', PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', HOME: tempDir('home') });

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

it('stdout on a full disk: the command runs to its own exit code and says on stderr that its output is lost', (t) => {
  if (!existsSync('/dev/full')) return t.skip('no /dev/full here');
  const hbaFile = join(tempDir('pgssl-full-disk'), 'pg_hba.conf');
  writeFileSync(hbaFile, 'host all all 0.0.0.0/0 trust\n');
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [pgsslBin, 'hba', 'check', hbaFile, '--json'], { env: cleanEnv(), stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
    assert.equal(r.status, 3, 'exit 3 as hba check gives for a plain remote rule');
    assert.match(r.stderr, /^pgssl: cannot write to stdout \(ENOSPC\): its output is lost; the command carries on$/m);
  } finally {
    closeSync(full);
  }
});

describe('a closed stdout and stderr do not stop a change half-way', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
  });
  after(() => cluster?.stop());

  it('enable --yes --json with both pipes closed before it writes: runs to the end, exit 0, server compliant', { timeout: 120_000 }, async () => {
    const state = join(tempDir('pgssl-state'), 'pgssl');
    const env = cluster.env({ PGSSL_STATE_DIR: state, HOME: state });
    // The reading ends close before pgssl starts, so every line it writes (the
    // progress on stderr, then the JSON on stdout) meets EPIPE, from the first step on.
    const child = spawn(process.execPath, [pgsslBin, 'enable', '--yes', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, 'the exit code of a complete, successful run');
    const status = await runPgssl(['status', '--json'], { env });
    assert.equal(status.code, 0, `compliant afterwards: ${status.stdout}`);
    const [row] = await cluster.query<{ ssl: string }>('SHOW ssl');
    assert.equal(row.ssl, 'on');
  });
});
