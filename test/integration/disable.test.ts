/**
 * pgssl disable on real servers: enable → disable gives back pg_hba.conf byte
 * for byte with TLS off, proven by real clients; rollback re-enforces;
 * --keep-ssl, --all-rules (cert rules stay hostssl), --dry-run, a lockout
 * refused before any change, idempotence, and kill -9 at every journal
 * position followed by rollback.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { connectFrom } from '../support/connectFrom.js';

const remoteHba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host\tall\tall\t0.0.0.0/0\ttrust
host    replication  all        0.0.0.0/0     trust
`;

const clusters: Cluster[] = [];
after(() => clusters.forEach((c) => c.stop()));

async function fresh(hba = remoteHba) {
  const cluster = await startCluster({ hba });
  clusters.push(cluster);
  const state = join(tempDir('pgssl-disable'), 'pgssl');
  const pgssl = (args: string[], extra: Record<string, string> = {}) => runPgssl(args, { env: cluster.env({ PGSSL_STATE_DIR: state, ...extra }), timeoutMs: 120_000 });
  return { cluster, state, pgssl };
}


describe('enable → disable → rollback', () => {
  it('disable gives back pg_hba.conf byte for byte, a plain remote client gets in, TLS is refused; rollback enforces again', async () => {
    const { cluster, state, pgssl } = await fresh();
    const before = readFileSync(cluster.hbaFile);
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    assert.match(await connectFrom(cluster, '127.0.0.2', false), /no encryption|SSL off/);

    const r = await pgssl(['disable', '--yes', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.changed, true);
    assert.deepEqual(report.steps.map((s: { status: string }) => s.status), ['done', 'done', 'done', 'done']);
    assert.ok(readFileSync(cluster.hbaFile).equals(before), 'pg_hba.conf byte-identical to before enable (tabs and all)');
    assert.equal(await connectFrom(cluster, '127.0.0.2', false), 'connected', 'a plain client from a remote-looking address gets in');
    assert.match(report.verification.loosened.attempts[0].plainOutcome, /connected/);
    assert.equal((await cluster.query<{ ssl: string }>('SHOW ssl'))[0].ssl, 'off');
    const tls = psql(`host=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=require`, 'SELECT 1');
    assert.notEqual(tls.code, 0);
    assert.match(tls.stderr, /server does not support SSL/);
    assert.match(report.verification.tlsRefused, /answered the TLS request with "N"/);

    const again = await pgssl(['disable', '--yes', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseJsonOutput(again).changed, false, 'a second disable changes nothing');

    const back = await pgssl(['rollback', '--non-interactive']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(await connectFrom(cluster, '127.0.0.2', false), /no encryption|SSL off/, 'rollback of disable requires TLS again');
    const verified = psql(`host=localhost port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(state, 'ca.crt')}`, 'SELECT 1');
    assert.equal(verified.code, 0, verified.stderr);
  });

  it('--keep-ssl loosens pg_hba.conf and leaves TLS on', async () => {
    const { cluster, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const r = await pgssl(['disable', '--yes', '--keep-ssl']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await connectFrom(cluster, '127.0.0.2', false), 'connected');
    assert.equal(await connectFrom(cluster, '127.0.0.2', true), 'connected');
    assert.equal((await cluster.query<{ ssl: string }>('SHOW ssl'))[0].ssl, 'on');
  });

  it('--dry-run shows the diff and what clients lose, and changes nothing', async () => {
    const { cluster, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const enabled = await snapshot(cluster);
    const r = await pgssl(['disable', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.match(report.hba.diff, /^-hostssl\tall\tall\t0\.0\.0\.0\/0\ttrust$/m);
    assert.match(report.hba.diff, /^\+host\tall\tall\t0\.0\.0\.0\/0\ttrust$/m);
    assert.ok(report.losses.some((l: string) => /loses encryption/.test(l)));
    assert.deepEqual(await snapshot(cluster), enabled);
  });
});

describe('disable refuses what would lock someone out', () => {
  it('the admin on TCP through a hostssl rule that stays: refused before any change, naming the rule and --keep-ssl', async () => {
    const hba = `local all all trust\nhostssl all all 127.0.0.1/32 trust\nhost all all 10.0.0.0/8 trust\n`;
    const { cluster, pgssl } = await fresh(hba);
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const enabled = await snapshot(cluster);
    const tcp = { PGHOST: '127.0.0.1', PGSSLMODE: 'prefer' };
    const r = await pgssl(['disable', '--yes', '--json'], tcp);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /turning TLS off would lock out your own connection, which only .*pg_hba\.conf:2.* lets in[\s\S]*--keep-ssl/);
    assert.equal(parseJsonOutput(r).changed, false);
    assert.deepEqual(await snapshot(cluster), enabled, 'nothing changed');
    const kept = await pgssl(['disable', '--yes', '--keep-ssl'], tcp);
    assert.equal(kept.code, 0, kept.stderr);
  });

  it('the admin with sslmode=require: refused before any change (that connection would fail without TLS)', async () => {
    const { cluster, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const enabled = await snapshot(cluster);
    const r = await pgssl(['disable', '--yes'], { PGHOST: '127.0.0.1', PGSSLMODE: 'require' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /your own connection: it uses sslmode=require[\s\S]*--keep-ssl/);
    assert.deepEqual(await snapshot(cluster), enabled);
  });
});

describe('disable --all-rules', () => {
  it('every remote hostssl rule becomes host with its columns kept; cert rules stay hostssl', async () => {
    const hba = `local   all   all                    trust\nhost    all   all    127.0.0.1/32    trust\nhostssl all   all    10.0.0.0/8      trust\nhostssl all   alice  10.1.0.0/16     cert\n`;
    const { cluster, pgssl } = await fresh(hba);
    await cluster.query('ALTER SYSTEM SET ssl = on');
    const files = (await import('../support/cluster.js')).opensslServerCert(tempDir('pgssl-disable-cert'));
    cluster.writeOwned(join(cluster.dataDir, 'server.crt'), readFileSync(files.cert), 0o644);
    cluster.writeOwned(join(cluster.dataDir, 'server.key'), readFileSync(files.key), 0o600);
    await cluster.reload();
    const r = await pgssl(['disable', '--yes', '--all-rules', '--keep-ssl', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(cluster.hbaFile, 'utf8');
    assert.match(text, /^host    all   all    10\.0\.0\.0\/8      trust$/m, 'the keyword and three blanks: the columns stay in place');
    assert.match(text, /^hostssl all   alice  10\.1\.0\.0\/16     cert$/m);
    assert.ok(parseJsonOutput(r).hba.kept.some((k: { line: number; reason: string }) => k.line === 4 && /needs TLS/.test(k.reason)));
  });
});

describe('kill -9 at every journal position of disable', () => {
  it('after each, a re-run of disable finishes the job, and one rollback then enforces again', { timeout: 600_000 }, async () => {
    const { cluster, pgssl } = await fresh();
    const original = readFileSync(cluster.hbaFile);
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const enabled = await snapshot(cluster);
    const positions: number[] = [];
    for (let at = 1; at < 30; at++) {
      const killed = await pgssl(['disable', '--yes'], { PGSSL_TEST_AFTER_JOURNAL_WRITE: `${at}:SIGKILL` });
      if (killed.signal !== 'SIGKILL') {
        assert.equal(killed.code, 0, killed.stderr);
        break;
      }
      positions.push(at);
      const rerun = await pgssl(['disable', '--yes']);
      assert.equal(rerun.code, 0, `position ${at}: ${rerun.stderr}`);
      assert.ok(readFileSync(cluster.hbaFile).equals(original), `position ${at}: pg_hba.conf as before enable`);
      assert.equal((await cluster.query<{ ssl: string }>('SHOW ssl'))[0].ssl, 'off');
      const back = await pgssl(['rollback', '--non-interactive']);
      assert.equal(back.code, 0, `position ${at}: ${back.stderr}`);
      assert.deepEqual(await snapshot(cluster), enabled, `position ${at}: one rollback gives back the enabled server`);
    }
    assert.ok(positions.length >= 5, `covered ${positions.length} positions`);
  });
});
