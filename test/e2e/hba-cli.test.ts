/** `pgssl hba check|rewrite|explain` as a user runs them, offline and against a server. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { fixtureRoot } from '../support/hbaFixtures.js';
import { tempDir } from '../support/tempDir.js';

const env = cleanEnv({ HOME: '/nonexistent' });
const work = tempDir('pgssl-hba-cli');
const copy = (name: string, kind = 'passing') => {
  const target = join(work, `${Math.random().toString(36).slice(2)}-${name}`);
  cpSync(join(fixtureRoot, kind, name), target);
  return target;
};

describe('hba check', () => {
  it('exits 3 and lists the plain remote rules and holes', async () => {
    const file = copy('nossl-holes.conf');
    const r = await runPgssl(['hba', 'check', file, '--no-color'], { env });
    assert.equal(r.code, 3);
    assert.match(r.stdout, new RegExp(`${file}:5: host +all +all +10\\.2\\.0\\.0/16`));
    assert.match(r.stdout, /hostnossl\/hostnogssenc rule\(s\)[\s\S]*:2: hostnossl +all +all +10\.0\.0\.0\/8/);
  });
  it('exits 0 on an enforced file, with --json', async () => {
    const file = join(work, 'enforced.conf');
    writeFileSync(file, 'local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\nhostssl all all 0.0.0.0/0 scram-sha-256\n');
    const r = await runPgssl(['hba', 'check', file, '--json'], { env });
    assert.equal(r.code, 0);
    const report = parseJsonOutput(r);
    assert.equal(report.compliant, true);
    assert.deepEqual(report.plainRemote, []);
    assert.equal(report.rules, 3);
  });
  it('exits 2 on an invalid file with file:line:column, and names the major', async () => {
    const file = copy('bad-cidr.conf', 'failing');
    const r = await runPgssl(['hba', 'check', file], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:2:14: invalid CIDR mask in address "10\\.0\\.0\\.0/33"`));
    const old = await runPgssl(['hba', 'check', copy('include.conf'), '--pg-major', '15'], { env });
    assert.equal(old.code, 2, 'include directives are invalid before 16');
    assert.match(old.stderr, /need PostgreSQL 16 or later; this is 15/);
    const bad = await runPgssl(['hba', 'check', file, '--pg-major', '11'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--pg-major 11: expected one of 12, 13/);
  });
});

describe('hba rewrite', () => {
  it('prints the rewritten file; --diff prints a diff; neither touches the file', async () => {
    const file = copy('alignment.conf');
    const original = readFileSync(file);
    const r = await runPgssl(['hba', 'rewrite', file], { env });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^hostssl\tall\tall\t10\.0\.0\.0\/8\tmd5$/m);
    assert.match(r.stderr, /9 rule\(s\) to change to hostssl/);
    const d = await runPgssl(['hba', 'rewrite', file, '--diff', '--no-color'], { env });
    assert.match(d.stdout, /^-host {4}all all 10\.4\.0\.0\/16 md5\t# padded to 8\n/m);
    assert.match(d.stdout, /^\+hostssl all all 10\.4\.0\.0\/16 md5\t# padded to 8$/m);
    assert.ok(readFileSync(file).equals(original), 'the file is byte-identical');
  });
  it('--write replaces the file and the included ones, each after a byte-identical backup', async () => {
    const dir = mkdtempSync(join(work, 'inc-'));
    cpSync(join(fixtureRoot, 'passing'), dir, { recursive: true });
    const main = join(dir, 'include.conf');
    const before = { main: readFileSync(main), apps: readFileSync(join(dir, 'conf.d', '10-apps.conf')) };
    const state = mkdtempSync(join(work, 'state-'));
    const listing = () => readdirSync(dir, { recursive: true }).map(String).sort();
    const filesBefore = listing();
    const r = await runPgssl(['hba', 'rewrite', main, '--write', '--json'], { env: { ...env, PGSSL_STATE_DIR: state } });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.written, true);
    assert.equal(report.changes.length, 4);
    assert.equal(report.backups.length, 4);
    for (const backup of report.backups) {
      assert.ok(backup.backup.startsWith(join(state, 'backups')), `kept in the state folder, never beside the configuration: ${backup.backup}`);
      assert.equal(statSync(backup.backup).mode & 0o777, 0o600);
    }
    assert.deepEqual(listing(), filesBefore, 'no backup or temp file beside the configuration');
    const mainBackup = report.backups.find((b: { original: string }) => b.original === main);
    assert.ok(readFileSync(mainBackup.backup).equals(before.main));
    assert.match(readFileSync(join(dir, 'conf.d', '10-apps.conf'), 'utf8'), /^hostssl appdb/);
    const again = await runPgssl(['hba', 'rewrite', main, '--write', '--json'], { env: { ...env, PGSSL_STATE_DIR: state } });
    assert.deepEqual(parseJsonOutput(again).changes, [], 'a second run changes nothing');
    assert.deepEqual(parseJsonOutput(again).backups, []);
    assert.ok(before.apps.length > 0);
  });
  it('--write on an invalid file changes nothing (byte-compare) and exits 2', async () => {
    const file = copy('unterminated-quote.conf', 'failing');
    const original = readFileSync(file);
    const r = await runPgssl(['hba', 'rewrite', file, '--write'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unterminated quoted string/);
    assert.ok(readFileSync(file).equals(original));
    assert.deepEqual(readdirSync(work).filter((n) => n.includes('unterminated') && n.endsWith('.bak')), []);
  });
  it('honours the limits', async () => {
    const file = copy('replication.conf');
    const r = await runPgssl(['hba', 'rewrite', file, '--json', '--skip-replication', '--only-address', '192.0.2.0/24'], { env });
    assert.deepEqual(parseJsonOutput(r).changes.map((c: { line: number }) => c.line), [9]);
  });
});

describe('hba explain', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost sales +team 10.0.0.0/8 md5\nhost all all 10.0.0.0/8 reject\n' });
    await cluster.query('CREATE ROLE team; CREATE ROLE carol LOGIN IN ROLE team');
  });
  after(() => cluster?.stop());

  it('offline, before and after the rewrite', async () => {
    const r = await runPgssl(['hba', 'explain', '--file', cluster.hbaFile, '--user', 'carol', '--db', 'sales', '--addr', '10.1.1.1', '--member-of', 'team'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /now: +allowed by .*:3: host sales \+team 10\.0\.0\.0\/8 md5 \(md5\)/);
    assert.match(r.stdout, /after the rewrite: rejected by .*:4: host all all 10\.0\.0\.0\/8 reject/);
  });
  it('connected: reads hba_file and the role memberships from the server', async () => {
    const r = await runPgssl(['hba', 'explain', '--user', 'carol', '--db', 'sales', '--addr', '10.1.1.1', '--ssl', '--json'], { env: cluster.env() });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.deepEqual(report.attempt.memberOf, ['team']);
    assert.equal(report.before.rule.line, 3);
    assert.equal(report.afterRewrite.rule.line, 3);
    assert.equal(report.afterRewrite.rule.type, 'hostssl');
  });
});
