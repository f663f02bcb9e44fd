/**
 * pgssl enable chooses between the primary plan and the standby plan on its
 * one admin session (flow/enable/primaryOrStandby.ts): no connection of its
 * own just to ask pg_is_in_recovery(). Counted by the servers themselves
 * (log_connections: one "connection authorized" line per backend that
 * logged in) on a real primary and a real streaming standby. The flags one
 * role refuses are still refused there, before any change.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl, type CliResult } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { snapshot } from '../support/snapshot.js';
import { startStandby, type Standby } from '../support/standby.js';
import { tempDir } from '../support/tempDir.js';
import { treeSnapshot } from '../support/treeSnapshot.js';

/** The backends that logged in while `run` ran, from the server's own log (log_connections = on). */
async function loginsDuring(logFile: string, run: () => Promise<CliResult>): Promise<{ result: CliResult; logins: string[] }> {
  const logins = () => readFileSync(logFile, 'utf8').split('\n').filter((line) => line.includes('connection authorized'));
  const before = logins().length;
  const result = await run();
  // A backend writes its line when it logs in, before pgssl's run goes on: nothing is pending once pgssl has exited.
  return { result, logins: logins().slice(before) };
}

describe('enable connects once, on a primary and on a standby', { timeout: 300_000 }, () => {
  let primary: Cluster;
  let standby: Standby | undefined;
  let skip: string | undefined;
  const state = join(tempDir('pgssl-state'), 'pgssl');

  before(async () => {
    // The standby's postgresql.conf is a copy of the primary's (pg_basebackup): log_connections is on for both.
    primary = await startCluster({ settings: { log_connections: 'on' }, hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' });
    const started = await startStandby(primary, { conninfo: `host=127.0.0.1 port=${primary.port} user=postgres application_name=standby1` });
    if (typeof started === 'string') skip = started;
    else standby = started;
  });
  after(() => {
    standby?.stop();
    primary?.stop();
  });

  // The standby's files that a refused run must leave as they were (the server's runtime files aside).
  const standbyFiles = (s: Standby) => treeSnapshot(s.dataDir, { recursive: false, ignore: (name) => !/\.(conf|crt|key)$/.test(name) });
  const conninfoOf = async (s: Standby) => (await s.query<{ v: string }>("SELECT current_setting('primary_conninfo') AS v"))[0].v;

  it('enable --dry-run on the primary: the server saw one login, the admin session', async () => {
    const { result, logins } = await loginsDuring(primary.logFile, () => runPgssl(['enable', '--dry-run', '--yes', '--json'], { env: primary.env({ PGSSL_STATE_DIR: state }) }));
    assert.equal(result.code, 0, result.stderr);
    const report = parseJsonOutput(result);
    assert.equal(report.dryRun, true);
    assert.equal(report.role, undefined, 'the primary plan');
    assert.equal(logins.length, 1, logins.join('\n'));
    assert.match(logins[0], /application_name=pgssl/);
  });

  it('--primary on a primary: refused with exit 2, nothing changed, and still one login', async () => {
    const before = await snapshot(primary);
    const { result, logins } = await loginsDuring(primary.logFile, () =>
      runPgssl(['enable', '--yes', '--json', '--primary', `host=${primary.socketDir} port=${primary.port}`], { env: primary.env({ PGSSL_STATE_DIR: state }) }),
    );
    assert.equal(result.code, 2, result.stderr);
    const report = parseJsonOutput(result);
    assert.equal(report.error.id, 'BAD_INPUT');
    assert.equal(report.error.message, '--primary is for pgssl enable on a standby (it names the primary to check its walsender on); this server is not in recovery. Nothing was changed.');
    assert.equal(report.changed, false);
    // Bad usage, reported as before the run began: no plan's steps.
    assert.deepEqual(report.steps, []);
    assert.match(result.stderr, /^pgssl: --primary is for pgssl enable on a standby .*Nothing was changed\.$/m);
    assert.deepEqual(await snapshot(primary), before);
    assert.equal(existsSync(state), false, 'no state folder, no journal');
    assert.equal(logins.length, 1, logins.join('\n'));
  });

  it('enable --dry-run on the standby: the standby saw one login, the admin session', async (t) => {
    if (!standby) return t.skip(skip);
    // The standby's plan verifies the primary's certificate with pgssl's CA: TLS on the primary first.
    const enabled = await runPgssl(['enable', '--yes', '--json'], { env: primary.env({ PGSSL_STATE_DIR: state }), timeoutMs: 120_000 });
    assert.equal(enabled.code, 0, enabled.stderr);
    const before = standbyFiles(standby);
    const { result, logins } = await loginsDuring(standby.logFile, () => runPgssl(['enable', '--dry-run', '--yes', '--json'], { env: standby!.env({ PGSSL_STATE_DIR: state }) }));
    assert.equal(result.code, 0, result.stderr);
    const report = parseJsonOutput(result);
    assert.equal(report.role, 'standby');
    assert.match(report.primaryConninfo.sql, /sslmode=verify-full/);
    assert.equal(logins.length, 1, logins.join('\n'));
    assert.match(logins[0], /application_name=pgssl/);
    assert.deepEqual(standbyFiles(standby), before);
  });

  it('--self-signed on the standby: refused with exit 2 before any step, nothing changed', async (t) => {
    if (!standby) return t.skip(skip);
    const before = standbyFiles(standby);
    const conninfo = await conninfoOf(standby);
    const { result, logins } = await loginsDuring(standby.logFile, () => runPgssl(['enable', '--self-signed', '--yes', '--json'], { env: standby!.env({ PGSSL_STATE_DIR: state }) }));
    assert.equal(result.code, 2, result.stderr);
    const report = parseJsonOutput(result);
    assert.equal(report.role, 'standby');
    assert.equal(report.error.id, 'BAD_INPUT');
    assert.equal(
      report.error.message,
      "this server is a standby (pg_is_in_recovery()), where pgssl enable secures the replication connection (primary_conninfo) and installs no certificate: --self-signed do not apply here. Nothing was changed. Run pgssl enable with those flags on the primary; here, --ca-file gives the primary's CA.",
    );
    assert.equal(report.changed, false);
    assert.deepEqual(
      report.steps.map((s: { status: string }) => s.status),
      report.steps.map(() => 'planned'),
      'refused before the preflight step',
    );
    assert.deepEqual(standbyFiles(standby), before);
    assert.equal(await conninfoOf(standby), conninfo);
    assert.equal(logins.length, 1, logins.join('\n'));

    const text = await runPgssl(['enable', '--self-signed', '--san', 'db1', '--yes', '--no-color'], { env: standby.env({ PGSSL_STATE_DIR: state }) });
    assert.equal(text.code, 2, text.stderr);
    assert.match(text.stderr, /--self-signed, --san do not apply here\. Nothing was changed\./);
    assert.doesNotMatch(text.stdout, /Step 1/, 'no step began');
    assert.deepEqual(standbyFiles(standby), before);
  });
});
