/**
 * pgssl rotate on real servers: the served certificate changes (seen by
 * openssl s_client, not by pgssl's own probe), the CA file clients already
 * have still verifies with psql verify-full, a session opened before still
 * answers, rollback serves the old certificate again; a pair the server cannot
 * load is detected (the old certificate is still served), quoted from the
 * server log and undone (exit 3); --if-expiring-within and --check exit codes
 * and their silence; refusals before any change; kill -9 at every journal
 * position followed by rollback.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { opensslServerCert, startCluster, type Cluster, type ClusterOptions } from '../support/cluster.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { treeSnapshot } from '../support/treeSnapshot.js';
import { servedFingerprint, verifyFull } from '../support/served.js';
import { installOpensslCert, turnSslOn } from '../support/tlsSetup.js';

const remoteHba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        0.0.0.0/0     trust
`;

const clusters: Cluster[] = [];
after(() => clusters.forEach((c) => c.stop()));

async function fresh(options: ClusterOptions = {}) {
  const cluster = await startCluster({ hba: remoteHba, ...options });
  clusters.push(cluster);
  const state = join(tempDir('pgssl-rotate'), 'pgssl');
  const pgssl = (args: string[], extra: Record<string, string> = {}) => runPgssl(args, { env: cluster.env({ PGSSL_STATE_DIR: state, ...extra }), timeoutMs: 120_000 });
  return { cluster, state, caFile: join(state, 'ca.crt'), pgssl };
}

async function filesInForce(cluster: Cluster): Promise<{ cert: string; key: string }> {
  const rows = await cluster.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name IN ('ssl_cert_file', 'ssl_key_file')");
  const abs = (name: string) => {
    const value = rows.find((r) => r.name === name)!.setting;
    return isAbsolute(value) ? value : join(cluster.dataDir, value);
  };
  return { cert: abs('ssl_cert_file'), key: abs('ssl_key_file') };
}

/** The server's pair is whole: the certificate in force matches its key, and it is the one served. */
async function assertConsistent(cluster: Cluster, caFile: string, message: string): Promise<string> {
  const files = await filesInForce(cluster);
  const cert = new X509Certificate(readFileSync(files.cert));
  assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(files.key))), `${message}: ${files.key} is the key of ${files.cert}`);
  const served = servedFingerprint(cluster);
  assert.equal(served, cert.fingerprint256.replace(/:/g, '').toLowerCase(), `${message}: the file in force is the certificate served`);
  const verified = verifyFull(cluster, caFile);
  assert.equal(verified.code, 0, `${message}: verify-full with the clients' CA file: ${verified.stderr}`);
  assert.equal((await cluster.query<{ one: number }>('SELECT 1 AS one'))[0].one, 1, `${message}: the admin connects`);
  return served;
}

/** The newest run journal in the state folder (one server per test). */
function newestJournal(state: string): { command: string; entries: unknown[] } {
  const [server] = readdirSync(join(state, 'runs'));
  const names = readdirSync(join(state, 'runs', server)).filter((n) => n.endsWith('.json')).sort();
  return JSON.parse(readFileSync(join(state, 'runs', server, names.at(-1)!), 'utf8'));
}

describe('rotate', () => {
  it('serves a new certificate from the same CA; the old CA file verifies, an old session answers; rollback serves the old one again', async () => {
    const { cluster, caFile, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const before = servedFingerprint(cluster);
    const oldFiles = await filesInForce(cluster);
    const session = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', ssl: { ca: readFileSync(caFile, 'utf8'), servername: 'localhost' } });
    await session.connect();
    try {
      const r = await pgssl(['rotate', '--yes', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = parseJsonOutput(r);
      assert.equal(report.changed, true);
      assert.deepEqual(report.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`), ['preflight:done', 'certificates:done', 'install-files:done', 'swap:done', 'report:done']);
      const now = servedFingerprint(cluster);
      assert.notEqual(now, before, 'a fresh handshake gets another certificate');
      assert.equal(now, report.after.fingerprint, 'the one rotate wrote');
      assert.equal(report.before.fingerprint, before);
      assert.deepEqual(report.after.names.slice(0, report.before.names.length), report.before.names, 'the names in force come first');
      const newFiles = await filesInForce(cluster);
      assert.match(newFiles.cert, /\/server-\d{8}T\d{6}Z\.crt$/);
      assert.match(newFiles.key, /\/server-\d{8}T\d{6}Z\.key$/);
      assert.ok(existsSync(oldFiles.cert) && existsSync(oldFiles.key), 'the old pair stays on disk');
      assert.equal(statSync(newFiles.key).mode & 0o777, 0o600, 'the new key is 0600');
      const verified = verifyFull(cluster, caFile);
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal(verified.stdout, 't');
      assert.equal((await session.query('SELECT 42 AS answer')).rows[0].answer, 42, 'a session opened before the rotation still answers');

      const back = await pgssl(['rollback', '--non-interactive']);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(servedFingerprint(cluster), before, 'rollback serves the old certificate again');
      assert.deepEqual(await filesInForce(cluster), oldFiles);
      assert.ok(!existsSync(newFiles.cert) && !existsSync(newFiles.key), 'the new pair is removed: nothing names it any more');
      await assertConsistent(cluster, caFile, 'after rollback');
    } finally {
      await session.end();
    }
  });

  it('a pair the server cannot read (--cert-dir only root may enter): the old certificate is still served, the log line quoted, undone, exit 3', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root: the folder must be writable by pgssl but not readable by the server user');
    // A logging collector, so that pgssl can quote the server's own log line.
    const { cluster, caFile, pgssl } = await fresh({ settings: { logging_collector: 'on', log_directory: "'log'" } });
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const before = servedFingerprint(cluster);
    const certDir = tempDir('pgssl-rotate-private');
    chmodSync(certDir, 0o700);
    const enabled = await snapshot(cluster, [certDir]);
    const r = await pgssl(['rotate', '--yes', '--json', '--cert-dir', certDir]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /the server still serves the previous certificate \(SHA-256 [0-9a-f]{16}…\): it could not load the new pair and kept its old one\. The server log \(.*\) says: .*(could not load|Permission denied)[\s\S]*Every change was undone/);
    const report = parseJsonOutput(r);
    assert.equal(report.changed, false);
    assert.equal(report.error.id, 'VERIFICATION_FAILED');
    assert.equal(report.steps.find((s: { id: string }) => s.id === 'swap').status, 'failed');
    assert.equal(servedFingerprint(cluster), before);
    assert.deepEqual(readdirSync(certDir), [], 'the new files are removed again');
    assert.deepEqual(await snapshot(cluster, [certDir]), enabled, 'files and settings as before');
    await assertConsistent(cluster, caFile, 'after the undo');
  });

  it('--check and --if-expiring-within: exit codes, and silence when not due', async () => {
    const { cluster, pgssl } = await fresh();
    const off = await pgssl(['rotate', '--check']);
    assert.equal(off.code, 1, 'ssl = off: could not check');
    assert.match(off.stderr, /ssl = off on this server: there is no certificate in force/);

    assert.equal((await pgssl(['enable', '--yes', '--days', '10'])).code, 0);
    const enabled = await snapshot(cluster);
    const before = servedFingerprint(cluster);

    const due = await pgssl(['rotate', '--check']);
    assert.equal(due.code, 3, due.stderr);
    assert.match(due.stdout, /due: the served certificate expires on \d{4}-\d\d-\d\d, within 30 days/);
    const dueJson = parseJsonOutput(await pgssl(['rotate', '--check', '--json']));
    assert.equal(dueJson.due, true);
    assert.equal(dueJson.expiry.daysLeft, 9);

    const notDue = await pgssl(['rotate', '--check', '--if-expiring-within', '5']);
    assert.equal(notDue.code, 0, notDue.stderr);
    assert.equal(notDue.stdout + notDue.stderr, '', 'not due: silent');
    const verbose = await pgssl(['rotate', '--check', '--if-expiring-within', '5', '--verbose']);
    assert.equal(verbose.code, 0);
    assert.match(verbose.stdout, /not due, expires on \d{4}-\d\d-\d\d/);

    const skipped = await pgssl(['rotate', '--yes', '--if-expiring-within', '5']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.equal(skipped.stdout + skipped.stderr, '', 'not due: silent');
    assert.deepEqual(await snapshot(cluster), enabled, '--check and a rotation not due change nothing');
    assert.equal(servedFingerprint(cluster), before);

    const rotated = await pgssl(['rotate', '--yes', '--if-expiring-within', '30']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(servedFingerprint(cluster), before, 'due: rotated');
    const after = await pgssl(['rotate', '--check', '--json']);
    assert.equal(after.code, 0, 'the new certificate (397 days) is not due');
  });

  it('--dry-run shows the new files and SQL and changes nothing', async () => {
    const { cluster, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const enabled = await snapshot(cluster);
    const r = await pgssl(['rotate', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.deepEqual(report.settings.map((s: { name: string }) => s.name), ['ssl_cert_file', 'ssl_key_file']);
    assert.match(report.settings[0].sql, /^ALTER SYSTEM SET ssl_cert_file = 'server-\d{8}T\d{6}Z\.crt'$/);
    assert.equal(report.changed, false);
    assert.deepEqual(await snapshot(cluster), enabled);
  });
});

describe('rotate refuses before any change', () => {
  it('a certificate in force that pgssl\'s CA did not issue: exit 2, naming --ca-cert and --cert-file', async () => {
    const { cluster, pgssl } = await fresh();
    await turnSslOn(cluster, installOpensslCert(cluster));
    const before = await snapshot(cluster);
    assert.equal((await pgssl(['ca', 'init'])).code, 0);
    const r = await pgssl(['rotate', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /was not issued by .*ca\.crt, so clients that verify it today would refuse one from that CA; nothing was changed\. Give the CA that issued it with --ca-cert\/--ca-key, or your own pair with --cert-file\/--key-file/);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('a passphrase-protected --key-file with ssl_passphrase_command_supports_reload = off: exit 2, saying so', async () => {
    const { cluster, pgssl } = await fresh({ settings: { ssl_passphrase_command: "'echo secret'" } });
    const installed = installOpensslCert(cluster);
    await turnSslOn(cluster, installed);
    const dir = tempDir('pgssl-rotate-pass');
    const files = opensslServerCert(dir);
    const encrypted = join(dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', files.key, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    const before = await snapshot(cluster);
    const r = await pgssl(['rotate', '--yes', '--cert-file', files.cert, '--key-file', encrypted, '--ca-file', files.ca]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is passphrase-protected, and with ssl_passphrase_command_supports_reload = off PostgreSQL cannot load it at a reload .*; nothing was changed\. Set ssl_passphrase_command_supports_reload = on/);
    assert.deepEqual(await snapshot(cluster), before);
  });
});

describe('rotate --check beside an unfinished run', () => {
  it('only reads, even with --yes: warns that a rotate without --check would undo the run first, undoes nothing, exit 0 when not due', async () => {
    const { cluster, state, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    // Killed after its third journal write: a rotate that changed something and did not finish.
    const killed = await pgssl(['rotate', '--yes'], { PGSSL_TEST_AFTER_JOURNAL_WRITE: '3:SIGKILL' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const unfinished = newestJournal(state);
    assert.ok(unfinished.entries.length > 0, 'the killed rotate registered changes');
    const before = { server: await snapshot(cluster), state: treeSnapshot(state) };
    const check = await pgssl(['rotate', '--check', '--yes', '--verbose']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(`${check.stdout}${check.stderr}`, /an earlier pgssl rotate .* stopped half-way: .*\. pgssl rotate \(without --check\) would undo it first, or run pgssl rollback\./);
    assert.doesNotMatch(`${check.stdout}${check.stderr}`, /without --dry-run/);
    assert.deepEqual({ server: await snapshot(cluster), state: treeSnapshot(state) }, before, 'nothing undone, nothing written');
    assert.equal((await pgssl(['rollback', '--non-interactive'])).code, 0, 'the unfinished run is still there to roll back');
  });
});

describe('kill -9 at every journal position of rotate', () => {
  it('after each, rollback leaves a whole pair in force: served, matching its key, verify-full works, the admin connects', { timeout: 600_000 }, async () => {
    const { cluster, state, caFile, pgssl } = await fresh();
    assert.equal((await pgssl(['enable', '--yes'])).code, 0);
    const enabled = await snapshot(cluster);
    const before = servedFingerprint(cluster);
    const positions: number[] = [];
    for (let at = 1; at < 20; at++) {
      const killed = await pgssl(['rotate', '--yes'], { PGSSL_TEST_AFTER_JOURNAL_WRITE: `${at}:SIGKILL` });
      if (killed.signal !== 'SIGKILL') {
        assert.equal(killed.code, 0, killed.stderr);
        break;
      }
      positions.push(at);
      if (newestJournal(state).entries.length === 0) {
        // Killed right after creating its journal, before registering any change: nothing changed. (pgssl rollback
        // would now undo the enable before it, the last run that changed something; see the report to the lead.)
        assert.deepEqual(await snapshot(cluster), enabled, `position ${at}: nothing changed`);
        assert.equal(await assertConsistent(cluster, caFile, `position ${at}`), before);
        continue;
      }
      const back = await pgssl(['rollback', '--non-interactive']);
      assert.equal(back.code, 0, `position ${at}: ${back.stderr}`);
      assert.equal(await assertConsistent(cluster, caFile, `position ${at}`), before, `position ${at}: the old certificate is served`);
      assert.deepEqual(await snapshot(cluster), enabled, `position ${at}: files and settings as after enable`);
    }
    assert.ok(positions.length >= 5, `covered ${positions.length} positions (journal, two files, two settings, applied)`);
    // The run that finished: one rollback returns to the enabled server.
    assert.equal((await pgssl(['rollback', '--non-interactive'])).code, 0);
    assert.equal(await assertConsistent(cluster, caFile, 'after the last rollback'), before);
  });
});
