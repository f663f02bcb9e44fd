/**
 * Replicas on TLS, with a real streaming standby (pg_basebackup -R): status
 * on the standby judges primary_conninfo; enable on the primary lists the
 * walsender before (no TLS) and after (TLS); enable on the standby sets
 * sslmode=verify-full with the primary's CA, proven by the walreceiver
 * streaming again and by pg_stat_ssl on the primary; its error paths change
 * nothing; a failed proof is undone (exit 3); rollback restores
 * primary_conninfo.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { opensslServerCert, startCluster, type Cluster } from '../support/cluster.js';
import { eventually, startStandby, type Standby } from '../support/standby.js';
import { tempDir } from '../support/tempDir.js';
import { treeSnapshot } from '../support/treeSnapshot.js';

describe('a streaming standby', { timeout: 600_000 }, () => {
  let primary: Cluster;
  let standby: Standby | undefined;
  let skip: string | undefined;
  let state: string;
  let originalConninfo: string;

  before(async () => {
    primary = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' });
    state = tempDir('pgssl-state');
    const started = await startStandby(primary, { conninfo: `host=127.0.0.1 port=${primary.port} user=postgres application_name=standby1 keepalives_idle=30 options='-c statement_timeout=0'` });
    if (typeof started === 'string') skip = started;
    else standby = started;
  });
  after(() => {
    standby?.stop();
    primary?.stop();
  });

  const walsenderTls = async () => (await primary.query<{ ssl: boolean }>("SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.application_name = 'standby1' AND r.state = 'streaming'"))[0]?.ssl;
  const conninfoOf = async (s: Standby) => (await s.query<{ v: string }>("SELECT current_setting('primary_conninfo') AS v"))[0].v;
  const receiver = async (s: Standby) => (await s.query<{ status: string; conninfo: string }>('SELECT status, conninfo FROM pg_stat_wal_receiver'))[0];
  // The standby's files that a refused or undone run must leave as they were (the server's runtime files aside).
  const standbyFiles = (s: Standby) => treeSnapshot(s.dataDir, { recursive: false, ignore: (name) => !/\.(conf|crt|key)$/.test(name) });

  it('status on the standby: no sslmode in primary_conninfo is a finding', async (t) => {
    if (!standby) return t.skip(skip);
    assert.ok(await eventually(async () => (await walsenderTls()) === false), `the standby streams without TLS before:\n${standby.log()}`);
    originalConninfo = await conninfoOf(standby);
    const r = await runPgssl(['status', '--json'], { env: standby.env() });
    const report = parseJsonOutput(r);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(report.server.inRecovery, true);
    assert.equal(report.replication.standby.primaryConninfo.security, 'plain-possible');
    assert.equal(report.replication.standby.primaryConninfo.sslmode, undefined);
    assert.equal(report.replication.standby.primaryConninfo.host, '127.0.0.1');
    assert.equal(report.replication.standby.walReceiver.status, 'streaming');
    const finding = report.findings.find((f: { id: string }) => f.id === 'PRIMARY_CONNINFO_NO_TLS');
    assert.ok(finding, JSON.stringify(report.findings));
    assert.equal(finding.severity, 'error');
    assert.match(finding.message, /no sslmode \(libpq then uses prefer\)/);
    const text = await runPgssl(['status', '--no-color'], { env: standby.env() });
    assert.match(text.stdout, /primary_conninfo: host 127\.0\.0\.1 port \d+, sslmode \(not set: prefer\)/);
    assert.match(text.stdout, /walreceiver: streaming from 127\.0\.0\.1:\d+/);
  });

  it('enable on the standby without a CA: refused, nothing changed', async (t) => {
    if (!standby) return t.skip(skip);
    const before = standbyFiles(standby);
    const empty = tempDir('pgssl-nostate');
    const r = await runPgssl(['enable', '--yes', '--json'], { env: standby.env({ PGSSL_STATE_DIR: empty }) });
    assert.equal(r.code, 2, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.role, 'standby');
    assert.equal(report.error.id, 'BAD_INPUT');
    assert.match(report.error.message, /no CA to verify the primary with: --ca-file was not given and pgssl's state folder has no CA .*nothing was changed/);
    assert.equal(report.changed, false);
    assert.deepEqual(standbyFiles(standby), before);
    assert.equal(await conninfoOf(standby), originalConninfo);
  });

  it('enable on the primary lists the walsender before (no TLS) and after (TLS), and the replication rule it converts', async (t) => {
    if (!standby) return t.skip(skip);
    const r = await runPgssl(['enable', '--yes', '--json', '--include-loopback', '--terminate-non-ssl', '--walsender-wait', '30'], { env: primary.env({ PGSSL_STATE_DIR: state }), timeoutMs: 150_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    const before = report.replicas.before.find((w: { applicationName: string }) => w.applicationName === 'standby1');
    assert.ok(before, JSON.stringify(report.replicas));
    assert.equal(before.tls, false);
    assert.equal(before.clientAddr, '127.0.0.1');
    assert.equal(before.state, 'streaming');
    const afterEnable = report.replicas.after.find((w: { applicationName: string }) => w.applicationName === 'standby1');
    assert.ok(afterEnable, JSON.stringify(report.replicas));
    assert.equal(afterEnable.tls, true, `standby log:\n${standby.log()}`);
    assert.match(afterEnable.tlsVersion, /^TLSv1\.[23]$/);
    assert.ok(report.replicas.convertedRules.some((c: { after: string }) => /^hostssl\s+replication/.test(c.after)), JSON.stringify(report.replicas.convertedRules));
    assert.match(r.stderr, /standbys streaming now: 1/);
    assert.match(r.stderr, /standby1 from 127\.0\.0\.1, streaming: no TLS/);
  });

  it('status on the primary lists the walsender with its TLS state', async (t) => {
    if (!standby) return t.skip(skip);
    const report = parseJsonOutput(await runPgssl(['status', '--json'], { env: primary.env() }));
    const w = report.replication.walsenders.find((x: { applicationName: string }) => x.applicationName === 'standby1');
    assert.equal(w.tls, true);
    assert.equal(report.replication.standby, undefined);
  });

  it('enable on the standby with a CA that did not sign the primary\'s certificate: refused, nothing changed', async (t) => {
    if (!standby) return t.skip(skip);
    const other = opensslServerCert(tempDir('pgssl-otherca'));
    const before = standbyFiles(standby);
    const r = await runPgssl(['enable', '--yes', '--ca-file', other.ca], { env: standby.env({ PGSSL_STATE_DIR: state }) });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /serves a certificate that the CA in .* does not verify for the name "127\.0\.0\.1".*nothing was changed/);
    assert.deepEqual(standbyFiles(standby), before);
    assert.equal(await conninfoOf(standby), originalConninfo);
  });

  it('enable on the standby whose walreceiver cannot log in with the new conninfo: undone, exit 3', async (t) => {
    if (!standby) return t.skip(skip);
    // The primary refuses replication over TLS from now on: the handshake check passes, the walreceiver's login does not.
    const hba = readFileSync(primary.hbaFile, 'utf8');
    writeFileSync(primary.hbaFile, `hostssl replication all 127.0.0.1/32 reject\n${hba}`);
    await primary.reload();
    try {
      const before = standbyFiles(standby);
      const r = await runPgssl(['enable', '--yes', '--json', '--walsender-wait', '10'], { env: standby.env({ PGSSL_STATE_DIR: state }), timeoutMs: 90_000 });
      assert.equal(r.code, 3, r.stderr);
      const report = parseJsonOutput(r);
      assert.equal(report.error.id, 'VERIFICATION_FAILED');
      assert.match(report.error.message, /the walreceiver did not stream with sslmode=verify-full within 10 s.*Every change was undone/);
      assert.equal(report.changed, false);
      assert.equal(await conninfoOf(standby), originalConninfo);
      assert.deepEqual(standbyFiles(standby), before);
      assert.equal(existsSync(join(standby.dataDir, 'primary-ca.crt')), false);
    } finally {
      writeFileSync(primary.hbaFile, hba);
      await primary.reload();
    }
    assert.ok(await eventually(async () => (await receiver(standby!))?.status === 'streaming'), `the standby streams again with its old conninfo:\n${standby.log()}`);
  });

  it('enable on the standby: dry run, then verify-full with the CA from the state folder, proven on both sides; rollback restores primary_conninfo', async (t) => {
    if (!standby) return t.skip(skip);
    const before = standbyFiles(standby);
    const dry = await runPgssl(['enable', '--dry-run', '--json'], { env: standby.env({ PGSSL_STATE_DIR: state }) });
    assert.equal(dry.code, 0, dry.stderr);
    const plan = parseJsonOutput(dry);
    assert.equal(plan.ca.source, 'state-folder');
    assert.equal(plan.ca.from, join(state, 'ca.crt'));
    assert.match(plan.primaryConninfo.sql, /^ALTER SYSTEM SET primary_conninfo = '.*sslmode=verify-full sslrootcert=.*primary-ca\.crt'$/);
    assert.deepEqual(standbyFiles(standby), before);

    const r = await runPgssl(['enable', '--yes', '--json', '--primary', `host=${primary.socketDir} port=${primary.port} user=postgres dbname=postgres`], { env: standby.env({ PGSSL_STATE_DIR: state }), timeoutMs: 90_000 });
    assert.equal(r.code, 0, `${r.stderr}\n${standby.log()}`);
    const report = parseJsonOutput(r);
    assert.equal(report.changed, true);
    assert.equal(report.verification.walReceiver.status, 'streaming');
    assert.match(report.verification.walReceiver.conninfo, /sslmode=verify-full/);
    assert.equal(report.verification.primaryWalsender.applicationName, 'standby1');
    assert.equal(report.verification.primaryWalsender.tls, true);
    const conninfo = await conninfoOf(standby);
    // Every other parameter kept, in meaning: quoting may differ, values do not.
    assert.match(conninfo, /^host=127\.0\.0\.1 port=\d+ user=postgres application_name=standby1 keepalives_idle=30 options='-c statement_timeout=0' sslmode=verify-full sslrootcert=\S+primary-ca\.crt$/);
    assert.equal(readFileSync(join(standby.dataDir, 'primary-ca.crt'), 'utf8'), readFileSync(join(state, 'ca.crt'), 'utf8'));
    assert.equal(await walsenderTls(), true);

    const status = parseJsonOutput(await runPgssl(['status', '--json'], { env: standby.env() }));
    assert.equal(status.replication.standby.primaryConninfo.security, 'verified');
    assert.deepEqual(status.findings.filter((f: { id: string }) => f.id.startsWith('PRIMARY_CONNINFO')), []);

    const again = await runPgssl(['enable', '--yes', '--json'], { env: standby.env({ PGSSL_STATE_DIR: state }) });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseJsonOutput(again).changed, false);

    const rollback = await runPgssl(['rollback', '--yes'], { env: standby.env({ PGSSL_STATE_DIR: state }), timeoutMs: 60_000 });
    assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
    assert.equal(await conninfoOf(standby), originalConninfo);
    assert.equal(existsSync(join(standby.dataDir, 'primary-ca.crt')), false);
    assert.ok(await eventually(async () => (await receiver(standby!))?.status === 'streaming' && !/verify-full/.test((await receiver(standby!)).conninfo)), `streaming again with the old conninfo:\n${standby.log()}`);
  });
});
