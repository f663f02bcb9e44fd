/**
 * The JSON contract, command by command: each command's --json document on
 * its success and its failure paths (real clusters where the command needs
 * one), validated against schemas/<command>.schema.json (runPgssl validates
 * every --json run; `document` does it once more and checks the exit code).
 * Every failure path shows its message and proves nothing changed.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl, type CliResult } from '../support/cli.js';
import { cleanEnv, freePort, startCluster, type Cluster } from '../support/cluster.js';
import { assertValidJsonDocument } from '../support/jsonSchema.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { treeSnapshot } from '../support/treeSnapshot.js';

const hba = `local   all   all                  trust
host    all   all   127.0.0.1/32   trust
host    all   all   0.0.0.0/0      trust
`;

/** The validated document, with the exit code it states checked against the process's. */
function document(result: CliResult, command: string): any {
  const doc = parseJsonOutput(result);
  assertValidJsonDocument(doc, command);
  assert.equal(doc.command, command);
  assert.equal(doc.exitCode, result.code, `exit code ${result.code} is the document's\n${result.stderr}`);
  assert.equal(doc.ok, result.code === 0);
  return doc;
}

/** A failure's document: the error with its stable id, a message, the fix field, and nothing changed. */
function failure(result: CliResult, command: string, exitCode: number, id: string, message: RegExp): any {
  const doc = document(result, command);
  assert.equal(result.code, exitCode, result.stderr);
  assert.equal(doc.changed, false);
  assert.equal(doc.error.id, id);
  assert.match(doc.error.message, message);
  assert.ok('fix' in doc.error);
  return doc;
}

describe('the server commands, on one cluster: enable, rotate, rollback, disable, status, readiness', () => {
  let cluster: Cluster;
  let pgssl: (args: string[]) => Promise<CliResult>;
  before(async () => {
    cluster = await startCluster({ hba });
    const state = join(tempDir('pgssl-json'), 'pgssl');
    pgssl = (args) => runPgssl(args, { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 120_000 });
  });
  after(() => cluster?.stop());

  it('status: the findings at the top level, no error when it ran (exit 3: not compliant)', async () => {
    const doc = document(await pgssl(['status', '--json']), 'status');
    assert.equal(doc.exitCode, 3);
    assert.equal(doc.error, null);
    assert.ok(doc.findings.some((f: { id: string }) => f.id === 'SSL_OFF'));
    assert.equal(doc.compliance, 'not-compliant');
  });

  it('readiness: its own report under the common top level', async () => {
    const doc = document(await pgssl(['readiness', '--json']), 'readiness');
    assert.equal(doc.exitCode, 0);
    assert.deepEqual([doc.changed, doc.steps, doc.findings], [false, [], []]);
  });

  it('enable --dry-run: the pg_hba.conf diff it would make, nothing changed', async () => {
    const before = await snapshot(cluster);
    const doc = document(await pgssl(['enable', '--dry-run', '--json']), 'enable');
    assert.equal(doc.changed, false);
    assert.deepEqual(doc.diffs.map((d: { path: string }) => d.path), [cluster.hbaFile]);
    assert.match(doc.diffs[0].diff, /^-host {4}all {3}all {3}0\.0\.0\.0\/0 {6}trust$/m);
    assert.match(doc.diffs[0].diff, /^\+hostssl all {3}all {3}0\.0\.0\.0\/0 {6}trust$/m);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('enable with a bad flag: one document, exit 2, BAD_INPUT naming the flag, nothing changed', async () => {
    const before = await snapshot(cluster);
    const doc = failure(await pgssl(['enable', '--yes', '--days', '0', '--json']), 'enable', 2, 'BAD_INPUT', /--days 0: expected a whole number of days from 1 to 3650/);
    assert.match(doc.error.fix, /pgssl enable --help/);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('enable --yes: changed, its steps, and the diff of the pg_hba.conf it wrote', async () => {
    const hbaBefore = readFileSync(cluster.hbaFile, 'utf8');
    const doc = document(await pgssl(['enable', '--yes', '--json']), 'enable');
    assert.equal(doc.changed, true);
    assert.deepEqual(doc.steps.map((s: { id: string }) => s.id), ['preflight', 'certificates', 'install-files', 'tls-on', 'enforce', 'sessions', 'report']);
    assert.deepEqual(doc.diffs.map((d: { path: string }) => d.path), [cluster.hbaFile]);
    // The diff is the change on disk: its - lines were in the file, its + lines are now.
    const removed = doc.diffs[0].diff.split('\n').filter((l: string) => /^-[^-]/.test(l)).map((l: string) => l.slice(1));
    const added = doc.diffs[0].diff.split('\n').filter((l: string) => /^\+[^+]/.test(l)).map((l: string) => l.slice(1));
    const hbaAfter = readFileSync(cluster.hbaFile, 'utf8').split('\n');
    assert.deepEqual([removed.every((l: string) => hbaBefore.split('\n').includes(l)), added.every((l: string) => hbaAfter.includes(l)), added.length], [true, true, 1]);
    assert.equal(doc.findings.length, doc.compliance.findings.length);
  });

  it('rotate --ca --finish with no overlap begun: exit 2, nothing changed', async () => {
    const before = await snapshot(cluster);
    failure(await pgssl(['rotate', '--ca', '--finish', '--yes', '--json']), 'rotate', 2, 'BAD_INPUT', /no CA rotation in progress to finish.*nothing was changed/);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('rotate --check, then rotate --yes: no text file changed, so no diffs', async () => {
    const check = document(await pgssl(['rotate', '--check', '--json']), 'rotate');
    assert.deepEqual([check.exitCode, check.changed], [0, false]);
    const doc = document(await pgssl(['rotate', '--yes', '--json']), 'rotate');
    assert.deepEqual([doc.changed, doc.diffs], [true, []]);
    assert.ok(doc.steps.some((s: { id: string; status: string }) => s.id === 'swap' && s.status === 'done'));
  });

  it('rollback --merge --force: exit 2, nothing changed; rollback --yes undoes the rotation', async () => {
    const before = await snapshot(cluster);
    const refused = failure(await pgssl(['rollback', '--merge', '--force', '--json']), 'rollback', 2, 'BAD_INPUT', /choose one of --merge and --force/);
    assert.equal(refused.rolledBack, false);
    assert.deepEqual(await snapshot(cluster), before);
    const doc = document(await pgssl(['rollback', '--yes', '--json']), 'rollback');
    assert.deepEqual([doc.changed, doc.rolledBack, doc.run.command], [true, true, 'rotate']);
  });

  it('disable --dry-run and disable --yes: the hostssl → host diff', async () => {
    const dry = document(await pgssl(['disable', '--dry-run', '--json']), 'disable');
    assert.equal(dry.changed, false);
    assert.match(dry.diffs[0].diff, /^\+host {4}all/m);
    const doc = document(await pgssl(['disable', '--yes', '--json']), 'disable');
    assert.equal(doc.changed, true);
    assert.deepEqual(doc.diffs, dry.diffs);
    assert.deepEqual(doc.steps.map((s: { id: string }) => s.id), ['preflight', 'loosen', 'tls-off', 'report']);
  });

  it('status and readiness against a port nobody listens on: exit 1, OPERATIONAL, one document each', async () => {
    const port = String(await freePort());
    const status = failure(await runPgssl(['status', '--json', '-h', '127.0.0.1', '-p', port], { env: cleanEnv() }), 'status', 1, 'OPERATIONAL', /could not connect/);
    assert.deepEqual([status.findings, status.steps, status.diffs], [[], [], []]);
    failure(await runPgssl(['readiness', '--json', '-h', '127.0.0.1', '-p', port], { env: cleanEnv() }), 'readiness', 1, 'OPERATIONAL', /could not connect/);
  });
});

describe('the offline commands: hba, cert inspect, ca init, client-cert, demo', () => {
  const dir = tempDir('pgssl-json-offline');
  const hbaFile = join(dir, 'pg_hba.conf');
  const env = cleanEnv({ PGSSL_STATE_DIR: join(dir, 'state'), HOME: dir });
  const pgssl = (args: string[]) => runPgssl(args, { env, timeoutMs: 120_000 });
  before(() => writeFileSync(hbaFile, hba));

  it('hba check: exit 3 with the plain remote rule; an invalid file: exit 2, the file:line, nothing changed', async () => {
    const doc = document(await pgssl(['hba', 'check', hbaFile, '--json']), 'hba check');
    assert.deepEqual(doc.plainRemote.map((r: { line: number }) => r.line), [3]);
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'host all all 10.0.0.0/33 trust\n');
    const before = treeSnapshot(dir);
    failure(await pgssl(['hba', 'check', bad, '--json']), 'hba check', 2, 'BAD_INPUT', /bad\.conf:1:/);
    assert.deepEqual(treeSnapshot(dir), before);
  });

  it('hba rewrite: the diff it would make (changed false), then --write (changed true, same diff)', async () => {
    const before = treeSnapshot(dir);
    const preview = document(await pgssl(['hba', 'rewrite', hbaFile, '--json']), 'hba rewrite');
    assert.deepEqual([preview.changed, preview.written, preview.diffs.map((d: { path: string }) => d.path)], [false, false, [hbaFile]]);
    assert.deepEqual(treeSnapshot(dir), before);
    const copy = join(dir, 'copy.conf');
    writeFileSync(copy, hba);
    const written = document(await pgssl(['hba', 'rewrite', copy, '--write', '--json']), 'hba rewrite');
    assert.deepEqual([written.changed, written.written], [true, true]);
    assert.equal(written.diffs[0].diff, preview.diffs[0].diff.replaceAll(hbaFile, copy));
    const again = document(await pgssl(['hba', 'rewrite', copy, '--write', '--json']), 'hba rewrite');
    assert.deepEqual([again.changed, again.diffs], [false, []]);
  });

  it('hba explain: before and after; without --user (commander refuses it): exit 2, one document', async () => {
    const doc = document(await pgssl(['hba', 'explain', '--file', hbaFile, '--user', 'app', '--db', 'app', '--addr', '10.0.0.7', '--json']), 'hba explain');
    assert.deepEqual([doc.before.verdict, doc.afterRewrite.verdict, doc.afterRewrite.rule], ['allow', 'reject', null]);
    failure(await pgssl(['hba', 'explain', '--file', hbaFile, '--db', 'app', '--json']), 'hba explain', 2, 'BAD_INPUT', /required option '--user <name>' not specified/);
  });

  it('ca init: changed; a second time: exit 2, the CA untouched', async () => {
    const ca = join(dir, 'ca');
    const doc = document(await pgssl(['ca', 'init', '--dir', ca, '--json']), 'ca init');
    assert.deepEqual([doc.changed, doc.certificate], [true, join(ca, 'ca.crt')]);
    const before = treeSnapshot(ca);
    failure(await pgssl(['ca', 'init', '--dir', ca, '--json']), 'ca init', 2, 'BAD_INPUT', /already holds a CA/);
    assert.deepEqual(treeSnapshot(ca), before);
  });

  it('client-cert: changed; with no CA in --dir: exit 2, nothing written', async () => {
    const out = join(dir, 'clients');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out);
    const doc = document(await pgssl(['client-cert', 'alice', '--dir', join(dir, 'ca'), '--out-dir', out, '--json']), 'client-cert');
    assert.deepEqual([doc.changed, doc.commonName], [true, 'alice']);
    const before = treeSnapshot(dir);
    failure(await pgssl(['client-cert', 'bob', '--dir', join(dir, 'no-ca'), '--out-dir', out, '--json']), 'client-cert', 2, 'BAD_INPUT', /no pgssl CA in/);
    assert.deepEqual(treeSnapshot(dir), before);
  });

  it('cert inspect: the problems are the findings; an unreadable file: exit 2', async () => {
    const doc = document(await pgssl(['cert', 'inspect', join(dir, 'clients', 'alice.crt'), join(dir, 'clients', 'alice.key'), '--json']), 'cert inspect');
    assert.equal(doc.exitCode, 3, 'a client certificate is not a server certificate');
    assert.deepEqual(doc.findings, doc.problems);
    assert.ok(doc.findings.some((f: { id: string }) => f.id === 'NOT_A_SERVER_CERT'));
    failure(await pgssl(['cert', 'inspect', join(dir, 'missing.crt'), '--json']), 'cert inspect', 2, 'BAD_INPUT', /cannot read .*missing\.crt: no such file/);
  });

  it('demo --json: refused before any cluster starts (exit 2)', async () => {
    const tmp = tempDir('pgssl-json-demo');
    failure(await runPgssl(['demo', '--json'], { env: cleanEnv({ TMPDIR: tmp }) }), 'demo', 2, 'BAD_INPUT', /has no --json/);
    assert.deepEqual(readdirSync(tmp), [], 'no cluster folder was made');
  });

  it('no complete command: the document names pgssl', async () => {
    failure(await pgssl(['--json']), 'pgssl', 2, 'BAD_INPUT', /^no command given/);
    failure(await pgssl(['hba', '--json', '--bogus']), 'pgssl', 2, 'BAD_INPUT', /unknown option '--bogus'/);
  });
});
