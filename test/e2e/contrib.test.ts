/**
 * contrib/systemd and contrib/cron: the units pass `systemd-analyze verify`
 * (offline, in a --root of their own, with no warning at all: verify exits 0
 * on unknown keys and bad values, so its stderr must be empty), the timers
 * fire twice a day / every 15 minutes, and — what verify cannot check — the
 * units' ExecStart= and the cron lines, expanded as systemd and sh would,
 * do their job against a real cluster as the postgres user: rotate renews a
 * certificate that is due and is silent when not, status writes the metrics.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pgsslBin, parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { parseExposition } from '../support/exposition.js';
import { repoRoot } from '../support/pgbin.js';
import { tempDir } from '../support/tempDir.js';

const systemdDir = join(repoRoot, 'contrib', 'systemd');
const cronFile = join(repoRoot, 'contrib', 'cron', 'pgssl');
const unitNames = ['pgssl-rotate@.service', 'pgssl-rotate@.timer', 'pgssl-status@.service', 'pgssl-status@.timer'];

type Unit = Record<string, Record<string, string[]>>;

/** A unit file as systemd reads it: sections, keys, every assignment of a key in order. */
function readUnit(name: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const line of readFileSync(join(systemdDir, name), 'utf8').split('\n')) {
    if (/^\s*([#;]|$)/.test(line)) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      unit[section] ??= {};
      continue;
    }
    const [, key, value] = /^([A-Za-z]+)=(.*)$/.exec(line) ?? assert.fail(`not a key=value line in ${name}: ${line}`);
    (unit[section][key] ??= []).push(value);
  }
  return unit;
}

const systemdAnalyze = () => spawnSync('systemd-analyze', ['--version']).status === 0;

/** A root with systemd's own units (sysinit.target, timers.target…), these units, and a `pgssl` for ExecStart= to find. */
function verifyRoot(units: Record<string, string>): string {
  const root = tempDir('pgssl-systemd-root');
  cpSync('/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, dereference: false });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const [name, text] of Object.entries(units)) writeFileSync(join(root, 'etc/systemd/system', name), text);
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  writeFileSync(join(root, 'usr/local/bin/pgssl'), '#!/bin/sh\n', { mode: 0o755 });
  return root;
}

function verify(root: string, instances: string[]) {
  return spawnSync('systemd-analyze', ['verify', '--man=no', '--generators=no', `--root=${root}`, ...instances], { encoding: 'utf8' });
}

const instances = ['pgssl-rotate@16-main.service', 'pgssl-rotate@16-main.timer', 'pgssl-status@16-main.service', 'pgssl-status@16-main.timer'];
const shipped = () => Object.fromEntries(unitNames.map((n) => [n, readFileSync(join(systemdDir, n), 'utf8')]));

describe('contrib/systemd units, offline', () => {
  it('systemd-analyze verify: no error and no warning for an instance of each unit', (t) => {
    if (!systemdAnalyze()) return t.skip('systemd-analyze is not installed (package systemd; .ci/run installs it)');
    const r = verify(verifyRoot(shipped()), instances);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'verify warns (and still exits 0) on unknown keys and values it ignores');
  });

  it('control: verify does report a misspelt key, an unknown value and a missing executable', (t) => {
    if (!systemdAnalyze()) return t.skip('systemd-analyze is not installed');
    const units = shipped();
    const service = units['pgssl-rotate@.service'];
    const broken = [
      [service.replace('ProtectSystem=strict', 'ProtectSytem=strict'), /Unknown key 'ProtectSytem'/],
      [service.replace('ProtectSystem=strict', 'ProtectSystem=bogus'), /Failed to parse protect system value/],
      [service.replace('ExecStart=pgssl ', 'ExecStart=pgsslx '), /Command pgsslx is not executable/],
    ] as const;
    for (const [text, message] of broken) {
      const r = verify(verifyRoot({ ...units, 'pgssl-rotate@.service': text }), ['pgssl-rotate@16-main.service']);
      assert.match(r.stderr, message);
    }
  });

  it('the timers: rotate twice a day with a random delay and catch-up, status every 15 minutes', (t) => {
    const rotate = readUnit('pgssl-rotate@.timer').Timer;
    assert.deepEqual([rotate.RandomizedDelaySec, rotate.Persistent], [['1h'], ['true']]);
    const status = readUnit('pgssl-status@.timer').Timer;
    if (!systemdAnalyze()) return t.skip('systemd-analyze is not installed');
    const elapses = (spec: string) => {
      const r = spawnSync('systemd-analyze', ['calendar', '--iterations=3', '--base-time=2026-12-01 06:00:00 UTC', spec], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      assert.equal(r.status, 0, r.stderr);
      return [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+)/g)].map((m) => m[1]);
    };
    assert.deepEqual(elapses(rotate.OnCalendar[0]), ['2026-12-01 12:00:00', '2026-12-02 00:00:00', '2026-12-02 12:00:00']);
    assert.deepEqual(elapses(status.OnCalendar[0]), ['2026-12-01 06:15:00', '2026-12-01 06:30:00', '2026-12-01 06:45:00']);
  });

  it('the services run as postgres, the connection from /etc/pgssl/%i.env, the documented commands', () => {
    const rotate = readUnit('pgssl-rotate@.service').Service;
    assert.deepEqual([rotate.User, rotate.EnvironmentFile, rotate.Type], [['postgres'], ['/etc/pgssl/%i.env'], ['oneshot']]);
    assert.deepEqual(rotate.ExecStart, ['pgssl rotate --yes --non-interactive --if-expiring-within 30']);
    const status = readUnit('pgssl-status@.service').Service;
    assert.deepEqual(status.ExecStart, ['pgssl status --format prometheus --output ${PGSSL_TEXTFILE_DIR}/pgssl-%i.prom']);
    assert.deepEqual(status.SuccessExitStatus, ['3'], 'not compliant is a metric, not a failed unit');
    assert.ok(status.ReadWritePaths.some((p) => p.replace(/^-/, '') === status.Environment[0].replace(/^PGSSL_TEXTFILE_DIR=/, '')), 'the default folder is writable under ProtectSystem=strict');
    assert.equal(rotate.RemoveIPC, undefined, "RemoveIPC would delete the server's shared memory (same user)");
  });
});

describe('contrib jobs run against a real cluster as the postgres user', () => {
  let cluster: Cluster;
  const work = tempDir('pgssl-contrib');
  const state = join(work, 'state');
  const textfiles = join(work, 'textfile');
  const envFile = join(work, '16-main.env');
  const bin = join(work, 'bin');
  let ids: { uid?: number; gid?: number } = {};

  before(async () => {
    cluster = await startCluster();
    for (const dir of [state, textfiles, bin]) mkdirSync(dir, { mode: 0o700 });
    // `pgssl` on PATH, as npm -g or the single executable puts it (for the cron lines' sh).
    writeFileSync(join(bin, 'pgssl'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(pgsslBin)} "$@"\n`, { mode: 0o755 });
    if (cluster.osUser.switchTo) {
      ids = { uid: cluster.osUser.uid, gid: cluster.osUser.gid };
      for (const dir of [work, state, textfiles, bin]) chownSync(dir, cluster.osUser.uid, cluster.osUser.gid);
    }
    // What /etc/pgssl/16-main.env holds (pgssl.env.example), for this cluster.
    writeFileSync(envFile, `PGHOST=${cluster.socketDir}\nPGPORT=${cluster.port}\nPGUSER=postgres\nPGSSL_STATE_DIR=${state}\nPGSSL_TEXTFILE_DIR=${textfiles}\n`);
  });
  after(() => cluster?.stop());

  /** The environment systemd gives the service: Environment=, then EnvironmentFile= over it (KEY=value lines). */
  function unitEnvironment(service: Record<string, string[]>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const assignment of service.Environment ?? []) {
      const [key, ...value] = assignment.split('=');
      env[key] = value.join('=');
    }
    assert.deepEqual(service.EnvironmentFile, ['/etc/pgssl/%i.env']);
    for (const line of readFileSync(envFile, 'utf8').split('\n').filter(Boolean)) {
      const [key, ...value] = line.split('=');
      env[key] = value.join('=');
    }
    return env;
  }

  /** ExecStart= as systemd expands it (%i, ${VAR}), run as User= with that environment; `pgssl` is the built CLI. */
  function runUnit(name: string, instance: string) {
    const service = readUnit(name).Service;
    assert.deepEqual(service.User, [cluster.osUser.switchTo ? 'postgres' : service.User[0]]);
    const env = unitEnvironment(service);
    const argv = service.ExecStart[0]
      .replace(/%i/g, instance)
      .replace(/\$\{(\w+)\}/g, (_, key: string) => env[key] ?? '')
      .split(' ');
    assert.equal(argv[0], 'pgssl');
    const r = spawnSync(process.execPath, [pgsslBin, ...argv.slice(1)], { env: cleanEnv({ ...env, HOME: work }), ...ids, encoding: 'utf8', timeout: 180_000 });
    const ok = (service.SuccessExitStatus ?? []).map(Number).concat(0);
    return { ...r, succeeded: ok.includes(r.status ?? -1) };
  }

  /** A cron line's command as cron's sh runs it, with /etc/pgssl/16-main.env pointing at the test's file and no random sleep. */
  function runCron(index: number) {
    const lines = readFileSync(cronFile, 'utf8').split('\n').filter((l) => /^[\d*]/.test(l));
    const [, , , , , , user, command] = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(lines[index])!;
    assert.equal(user, 'postgres');
    const local = command.replaceAll('/etc/pgssl/16-main.env', envFile).replace('sleep $(shuf -i 0-3599 -n 1)', 'sleep 0');
    assert.notEqual(local, command);
    return spawnSync('/bin/sh', ['-c', local], { env: cleanEnv({ PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, HOME: work }), ...ids, encoding: 'utf8', timeout: 180_000 });
  }

  const served = async () => {
    const report = parseJsonOutput(await runPgssl(['status', '--json'], { env: cluster.env() }));
    return report.tls.servedCertificate as { fingerprintSha256: string; daysLeft: number };
  };

  it('pgssl-status@.service: writes pgssl-16-main.prom into the textfile folder, 0644, and the unit succeeds on "not compliant"', () => {
    const r = runUnit('pgssl-status@.service', '16-main');
    assert.equal(r.status, 3, r.stderr);
    assert.ok(r.succeeded, 'SuccessExitStatus=3');
    const file = join(textfiles, 'pgssl-16-main.prom');
    assert.equal(statSync(file).mode & 0o777, 0o644);
    const families = parseExposition(readFileSync(file, 'utf8'));
    assert.equal(families.get('pgssl_compliant')!.samples[0].value, 0);
    assert.deepEqual(readdirSync(textfiles), ['pgssl-16-main.prom']);
  });

  it('pgssl-rotate@.service: renews a certificate due within 30 days; the next run is silent and changes nothing', async () => {
    // A certificate from pgssl's CA (in the state folder the units use) that expires in 10 days.
    const enable = spawnSync(process.execPath, [pgsslBin, 'enable', '--yes', '--days', '10'], { env: cleanEnv({ ...unitEnvironment(readUnit('pgssl-rotate@.service').Service), HOME: work }), ...ids, encoding: 'utf8', timeout: 180_000 });
    assert.equal(enable.status, 0, enable.stdout + enable.stderr);
    const before = await served();
    assert.ok(before.daysLeft <= 10);
    const first = runUnit('pgssl-rotate@.service', '16-main');
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const after = await served();
    assert.notEqual(after.fingerprintSha256, before.fingerprintSha256, 'the server serves a new certificate');
    assert.ok(after.daysLeft > 300, `${after.daysLeft} days left`);
    const second = runUnit('pgssl-rotate@.service', '16-main');
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout + second.stderr, '', 'not due: silent (what a timer wants)');
    assert.equal((await served()).fingerprintSha256, after.fingerprintSha256);
  });

  it('the cron lines: the same jobs through sh (rotate not due: silent, exit 0; status writes the file)', async () => {
    const rotate = runCron(0);
    assert.equal(rotate.status, 0, rotate.stderr);
    assert.equal(rotate.stdout + rotate.stderr, '');
    const file = join(textfiles, 'pgssl-16-main.prom');
    const before = readFileSync(file, 'utf8');
    const status = runCron(1);
    assert.equal(status.status, 0, status.stderr);
    const text = readFileSync(file, 'utf8');
    assert.notEqual(text, before);
    assert.equal(parseExposition(text).get('pgssl_compliant')!.samples[0].value, 1, 'enable above made it compliant');
    assert.ok(existsSync(file));
  });
});
