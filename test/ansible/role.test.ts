/**
 * The Ansible role (ansible/roles/pgssl), run by the real ansible-playbook on
 * three real clusters, one inventory host each (connection local, become the
 * postgres OS user with su): check mode changes nothing and shows the
 * pg_hba.conf diff, the first run changes all three and each server refuses a
 * plain remote client, the second changes none, disabled gives pg_hba.conf
 * back byte for byte, a broken host fails alone with pgssl's message, and
 * pgssl installed from the npm tarball runs the same tasks.
 *
 * Minutes long: npm run test:ansible, not part of npm test.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pgsslBin, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { connectFrom } from '../support/connectFrom.js';
import { repoRoot } from '../support/pgbin.js';
import { psql } from '../support/psql.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { ansibleAvailable, describeRun, runPlaybook, taskResults, writeInventory, writePlay, type PlaybookRun } from './support/playbook.js';

const remoteHba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        0.0.0.0/0     trust
host    replication  all        0.0.0.0/0     trust
`;
const names = ['db1', 'db2', 'db3'];
const enableTask = 'pgssl enabled';
const disableTask = 'pgssl disabled';
const minutes = (n: number) => n * 60_000;

interface Host {
  name: string;
  cluster: Cluster;
  /** pgssl's state folder on this "host" (PGSSL_STATE_DIR: its CA and journals). */
  state: string;
  originalHba: Buffer;
}

/** A folder the postgres OS user can write in (pgssl runs as postgres through become). */
function serverOwnedDir(prefix: string, cluster: Cluster): string {
  const dir = tempDir(prefix);
  if (cluster.osUser.switchTo) chownSync(dir, cluster.osUser.uid, cluster.osUser.gid);
  return dir;
}

function hostVars(host: Host, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pgssl_bin: pgsslBin,
    pgssl_conninfo: `host=${host.cluster.socketDir} port=${host.cluster.port} user=postgres dbname=postgres`,
    pgssl_state_dir: host.state,
    ...extra,
  };
}

function assertRecap(run: PlaybookRun, expected: Record<string, { changed: 'some' | 0; failures?: number }>): void {
  for (const [name, want] of Object.entries(expected)) {
    const stats = run.stats[name];
    assert.ok(stats, `${name} in the recap: ${describeRun(run)}`);
    assert.equal(stats.failures, want.failures ?? 0, `${name} failures: ${describeRun(run)}`);
    if (want.changed === 0) assert.equal(stats.changed, 0, `${name} changed nothing: ${describeRun(run)}`);
    else assert.ok(stats.changed >= 1, `${name} changed something: ${describeRun(run)}`);
  }
}

/** TLS required for real: a plain client from a remote-looking address is refused by pg_hba.conf, verify-full with pgssl's CA works. */
async function assertEnforced(host: Host): Promise<void> {
  assert.match(await connectFrom(host.cluster, '127.0.0.2', false), /no encryption/, `${host.name}: a plain remote client is refused`);
  const verified = psql(`host=localhost port=${host.cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(host.state, 'ca.crt')}`, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  assert.equal(verified.code, 0, `${host.name}: verify-full: ${verified.stderr}`);
  assert.equal(verified.stdout, 't');
}

describe('the Ansible role against three clusters', { skip: ansibleAvailable() ? false : 'ansible-playbook is not installed (.ci/run installs Debian\'s ansible-core)' }, () => {
  const hosts: Host[] = [];
  const work = tempDir('pgssl-ansible');
  const inventory = join(work, 'inventory.yml');
  const play = join(work, 'play.yml');
  const playbook = (args: string[] = []) => runPlaybook(work, play, inventory, args);
  /** Wall time of a run, printed as a test diagnostic (a figure for the record, never asserted). */
  const timed = async (t: { diagnostic(message: string): void }, label: string, args: string[] = []) => {
    const started = process.hrtime.bigint();
    const run = await playbook(args);
    t.diagnostic(`${label}: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
    return run;
  };

  before(async () => {
    for (const name of names) {
      const cluster = await startCluster({ hba: remoteHba, label: `pgssl-ansible-${name}` });
      hosts.push({ name, cluster, state: join(serverOwnedDir(`pgssl-ansible-${name}-state`, cluster), 'pgssl'), originalHba: readFileSync(cluster.hbaFile) });
    }
    writeInventory(inventory, Object.fromEntries(hosts.map((h) => [h.name, hostVars(h)])));
    writePlay(play);
  });
  after(() => {
    for (const host of hosts) host.cluster.stop();
  });

  it('check mode with --diff on fresh clusters: reports the change, shows the pg_hba.conf diff, changes nothing on disk', { timeout: minutes(15) }, async (t) => {
    const before = await Promise.all(hosts.map((h) => snapshot(h.cluster)));
    const run = await timed(t, 'check mode, 3 hosts', ['--check', '--diff']);
    assert.equal(run.code, 0, describeRun(run));
    assertRecap(run, Object.fromEntries(names.map((n) => [n, { changed: 'some' }])));
    const results = taskResults(run, enableTask);
    for (const [i, host] of hosts.entries()) {
      const result = results[host.name];
      assert.equal(result.changed, true, `${host.name} would change`);
      assert.ok(result.command!.includes('--dry-run'), 'check mode runs pgssl with --dry-run');
      assert.equal(result.report.dryRun, true);
      const hbaDiff = result.diff!.find((d) => d.before_header === host.cluster.hbaFile);
      assert.ok(hbaDiff, `a diff of ${host.cluster.hbaFile}: ${JSON.stringify(result.diff)}`);
      assert.equal(hbaDiff.before, host.originalHba.toString('utf8'), 'before: the file as it is');
      assert.equal(hbaDiff.after, host.originalHba.toString('utf8').replace(/^host    all          all        0\.0\.0\.0\/0/m, 'hostssl all          all        0.0.0.0/0').replace(/^host    replication  all        0\.0\.0\.0\/0/m, 'hostssl replication  all        0.0.0.0/0'), 'after: the remote rules as hostssl, nothing else');
      assert.deepEqual(await snapshot(host.cluster), before[i], `${host.name}: nothing changed on disk or in the settings`);
      assert.equal(existsSync(host.state), false, 'not even pgssl\'s state folder was created');
    }
  });

  it('the first run changes all three and each enforces TLS; the second changes none', { timeout: minutes(20) }, async (t) => {
    const first = await timed(t, 'first run, 3 hosts');
    assert.equal(first.code, 0, describeRun(first));
    assertRecap(first, Object.fromEntries(names.map((n) => [n, { changed: 'some' }])));
    const results = taskResults(first, enableTask);
    for (const host of hosts) {
      assert.equal(results[host.name].changed, true);
      assert.equal(results[host.name].report.changed, true, 'changed comes from pgssl\'s own report');
      assert.ok(!results[host.name].command!.includes('--dry-run'));
      await assertEnforced(host);
    }

    const second = await timed(t, 'second run (no change), 3 hosts');
    assert.equal(second.code, 0, describeRun(second));
    assertRecap(second, Object.fromEntries(names.map((n) => [n, { changed: 0 }])));
    for (const host of hosts) assert.equal(taskResults(second, enableTask)[host.name].report.changed, false);
  });

  it('pgssl_state: rotated with pgssl_if_expiring_within changes nothing when not due; without, the server serves a new certificate', { timeout: minutes(15) }, async () => {
    const notDue = await playbook(['--limit', 'db1', '-e', 'pgssl_state=rotated', '-e', 'pgssl_if_expiring_within=30']);
    assert.equal(notDue.code, 0, describeRun(notDue));
    assertRecap(notDue, { db1: { changed: 0 } });
    const quiet = taskResults(notDue, 'pgssl rotated').db1;
    assert.equal(quiet.report.due, false, 'a fresh certificate is not due within 30 days');
    assert.ok(quiet.command!.includes('--if-expiring-within'));

    const rotated = await playbook(['--limit', 'db1', '-e', 'pgssl_state=rotated']);
    assert.equal(rotated.code, 0, describeRun(rotated));
    assertRecap(rotated, { db1: { changed: 'some' } });
    const report = taskResults(rotated, 'pgssl rotated').db1.report;
    assert.notEqual(report.after.fingerprint, report.before.fingerprint, 'a new certificate');
    await assertEnforced(hosts[0]);
  });

  it('pgssl_state: disabled gives each pg_hba.conf back byte for byte; again, it changes nothing', { timeout: minutes(20) }, async () => {
    const run = await playbook(['-e', 'pgssl_state=disabled']);
    assert.equal(run.code, 0, describeRun(run));
    assertRecap(run, Object.fromEntries(names.map((n) => [n, { changed: 'some' }])));
    for (const host of hosts) {
      assert.ok(readFileSync(host.cluster.hbaFile).equals(host.originalHba), `${host.name}: pg_hba.conf byte-identical to before the role ran`);
      assert.equal(await connectFrom(host.cluster, '127.0.0.2', false), 'connected', `${host.name}: a plain remote client gets in again`);
      assert.equal((await host.cluster.query<{ ssl: string }>('SHOW ssl'))[0].ssl, 'off');
    }
    const again = await playbook(['-e', 'pgssl_state=disabled']);
    assert.equal(again.code, 0, describeRun(again));
    assertRecap(again, Object.fromEntries(names.map((n) => [n, { changed: 0 }])));
    assert.equal(taskResults(again, disableTask).db1.report.changed, false);
  });

  it('a host with a pg_hba.conf line the server refuses fails alone, with pgssl\'s message, unchanged; the other two finish', { timeout: minutes(20) }, async () => {
    const broken = hosts[1];
    appendFileSync(broken.cluster.hbaFile, 'host    all          all        10.0.0.0/8    bogusmethod\n');
    const before = await snapshot(broken.cluster);
    const run = await playbook();
    assert.equal(run.code, 2, `ansible-playbook exits 2 when a host failed: ${describeRun(run)}`);
    assertRecap(run, { db1: { changed: 'some' }, db2: { changed: 0, failures: 1 }, db3: { changed: 'some' } });
    const result = taskResults(run, enableTask).db2;
    assert.equal(result.failed, true);
    assert.equal(result.changed, false);
    assert.equal(result.rc, 2, 'pgssl exits 2 on bad input');
    assert.match(result.msg!, /cannot read .*pg_hba\.conf the way PostgreSQL \d+ does; nothing was changed/);
    assert.match(result.msg!, /invalid authentication method "bogusmethod"/);
    assert.ok(result.msg!.startsWith(result.report.error.message), 'msg is pgssl\'s own error message');
    assert.deepEqual(await snapshot(broken.cluster), before, 'the broken host: nothing changed');
    for (const host of [hosts[0], hosts[2]]) await assertEnforced(host);
  });

  it('installs pgssl from the npm tarball into a prefix on the host and runs it from there; a second run installs nothing', { timeout: minutes(20) }, async () => {
    const pack = tempDir('pgssl-ansible-pack');
    // --ignore-scripts: dist/ is already built (npm run test:ansible builds first); prepack would rebuild it.
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', pack], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const prefix = tempDir('pgssl-ansible-prefix');
    chmodSync(prefix, 0o755); // the postgres OS user runs PREFIX/bin/pgssl
    const db1 = hosts[0];
    const tarballInventory = join(work, 'tarball-inventory.yml');
    const vars = hostVars(db1, { pgssl_bin: '', pgssl_install_from: 'tarball', pgssl_tarball: join(pack, tarball), pgssl_prefix: prefix, pgssl_npm_install_args: ['--no-audit', '--no-fund', '--prefer-offline'] });
    writeInventory(tarballInventory, { db1: vars });

    const run = await runPlaybook(work, play, tarballInventory, ['-e', 'pgssl_state=disabled']);
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(taskResults(run, `npm install -g --prefix ${prefix}`).db1.changed, true);
    const installed = join(prefix, 'bin', 'pgssl');
    const version = spawnSync(installed, ['--version'], { encoding: 'utf8', env: cleanEnv() });
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version, version.stderr);
    const disabled = taskResults(run, disableTask).db1;
    assert.equal(disabled.command![0], installed, 'the role runs the pgssl it installed');
    assert.equal(disabled.changed, true);
    assert.ok(readFileSync(db1.cluster.hbaFile).equals(db1.originalHba), 'the installed pgssl did the work: pg_hba.conf back as it was');

    const again = await runPlaybook(work, play, tarballInventory, ['-e', 'pgssl_state=disabled']);
    assert.equal(again.code, 0, describeRun(again));
    assertRecap(again, { db1: { changed: 0 } });
    assert.equal(taskResults(again, `npm install -g --prefix ${prefix}`).db1.skipped, true, 'the same tarball is not installed again');
  });

  it('installs the single-file executable as PREFIX/bin/pgssl', { timeout: minutes(15) }, async () => {
    const executable = join(repoRoot, 'dist', 'pgssl-linux-x64');
    // npm run test:ansible builds it first (npm run build:sea): missing means the suite was run another way.
    assert.ok(existsSync(executable), 'dist/pgssl-linux-x64 is not built: run the suite with npm run test:ansible, which builds it');
    const prefix = tempDir('pgssl-ansible-sea');
    chmodSync(prefix, 0o755);
    const db1 = hosts[0];
    const seaInventory = join(work, 'sea-inventory.yml');
    writeInventory(seaInventory, { db1: hostVars(db1, { pgssl_bin: '', pgssl_install_from: 'executable', pgssl_executable: executable, pgssl_prefix: prefix }) });
    const run = await runPlaybook(work, play, seaInventory);
    assert.equal(run.code, 0, describeRun(run));
    const installed = join(prefix, 'bin', 'pgssl');
    assert.ok(readFileSync(installed).equals(readFileSync(executable)), 'the executable, as built');
    assert.equal(taskResults(run, enableTask).db1.command![0], installed);
    assert.equal(taskResults(run, enableTask).db1.changed, true, 'db1 was disabled by the tarball case: the executable enables it');
    await assertEnforced(db1);
  });
});

describe('the CSR flow: the key stays on each host, the controller signs', { skip: ansibleAvailable() ? false : 'ansible-playbook is not installed' }, () => {
  const clusters: Cluster[] = [];
  after(() => {
    for (const cluster of clusters) cluster.stop();
  });

  it('two hosts end with certificates from the controller\'s CA; verify-full with its ca.crt; a second run changes nothing', { timeout: minutes(20) }, async () => {
    const work = tempDir('pgssl-ansible-csr');
    const caDir = join(work, 'ca');
    const init = await runPgssl(['ca', 'init', '--dir', caDir, '--json'], { env: cleanEnv() });
    assert.equal(init.code, 0, init.stderr);
    const hosts: Record<string, Record<string, unknown>> = {};
    for (const name of ['csr1', 'csr2']) {
      const cluster = await startCluster({ hba: remoteHba, label: `pgssl-ansible-${name}` });
      clusters.push(cluster);
      const own = serverOwnedDir(`pgssl-ansible-${name}`, cluster);
      hosts[name] = {
        pgssl_bin: pgsslBin,
        pgssl_conninfo: `host=${cluster.socketDir} port=${cluster.port} user=postgres dbname=postgres`,
        pgssl_state_dir: join(own, 'state'),
        pgssl_request_dir: join(own, 'request'),
        pgssl_ca_dir: caDir,
        pgssl_issued_dir: join(work, 'issued'),
      };
    }
    const inventory = join(work, 'inventory.yml');
    const play = join(work, 'play.yml');
    writeInventory(inventory, hosts);
    writePlay(play);

    // Check mode first: neither command has a dry run, so nothing is requested or signed; the hosts say they would change.
    const planned = await runPlaybook(work, play, inventory, ['--check', '--diff']);
    assert.equal(planned.code, 0, describeRun(planned));
    assertRecap(planned, { csr1: { changed: 'some' }, csr2: { changed: 'some' } });
    for (const name of ['csr1', 'csr2']) assert.equal(existsSync(join(String(hosts[name].pgssl_request_dir), 'server.key')), false, `${name}: check mode wrote no key`);
    assert.equal(existsSync(join(work, 'issued')), false, 'check mode signed nothing');

    const first = await runPlaybook(work, play, inventory);
    assert.equal(first.code, 0, describeRun(first));
    assertRecap(first, { csr1: { changed: 'some' }, csr2: { changed: 'some' } });
    assert.equal(taskResults(first, 'pgssl ca sign (on the controller)').csr1.changed, true);
    for (const [i, cluster] of clusters.entries()) {
      assert.match(await connectFrom(cluster, '127.0.0.2', false), /no encryption/);
      const verified = psql(`host=localhost port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(caDir, 'ca.crt')}`, 'SELECT 1');
      assert.equal(verified.code, 0, `csr${i + 1}: verify-full with the controller's CA: ${verified.stderr}`);
      assert.equal(existsSync(join(work, 'issued', `csr${i + 1}.key`)), false, 'no private key on the controller');
    }
    const second = await runPlaybook(work, play, inventory);
    assert.equal(second.code, 0, describeRun(second));
    assertRecap(second, { csr1: { changed: 0 }, csr2: { changed: 0 } });
    // Not asserted: check mode after this converged run. pgssl's dry-run report cannot tell
    // --cert-file files identical to those in force from new ones (certificate.action is
    // install-files either way and files is empty), so the module reports "would change".
  });
});
