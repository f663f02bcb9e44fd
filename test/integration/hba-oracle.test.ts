/**
 * PostgreSQL is the oracle for the pg_hba.conf engine: for each fixture the
 * server's own reading (pg_hba_file_rules) must agree with pgssl's parse, and
 * after the rewrite the server must read exactly the same rules except
 * host → hostssl on the lines the plan names. Invalid fixtures must be refused
 * by both, at the same line; a file with no rules (error-line=0) has no line:
 * the server's verdict is that it does not start with it. Runs on every major
 * of the matrix.
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { expandIPv6 } from '../../src/hba/addresses.js';
import { loadHba } from '../../src/hba/load.js';
import type { HbaRule } from '../../src/hba/model.js';
import { planRewrite } from '../../src/hba/rewrite.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { appliesTo, fixtureRoot, generatedHba, hbaFixtures } from '../support/hbaFixtures.js';
import { installOpensslCert, turnSslOn } from '../support/tlsSetup.js';

interface ServerRow {
  file_name?: string;
  line_number: number;
  type: string | null;
  database: string[] | null;
  user_name: string[] | null;
  address: string | null;
  netmask: string | null;
  auth_method: string | null;
  error: string | null;
}

let cluster: Cluster;

async function serverRules(): Promise<ServerRow[]> {
  const rows = await cluster.query<{ rule: ServerRow }>('SELECT to_jsonb(r) AS rule FROM pg_hba_file_rules r');
  return rows.map((r) => r.rule);
}

function makeReadable(path: string): void {
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) makeReadable(join(path, name));
}

before(async () => {
  cluster = await startCluster({ debianLayout: true });
  // hostssl lines are errors while ssl is off: the oracle needs TLS on.
  await turnSslOn(cluster, installOpensslCert(cluster, { dir: cluster.configDir }));
  // Companion files (include targets, @lists) next to pg_hba.conf, as the fixtures expect.
  for (const kind of ['passing', 'failing']) {
    for (const name of readdirSync(join(fixtureRoot, kind))) {
      if (name.endsWith('.conf') && name !== 'conf.d') continue;
      cpSync(join(fixtureRoot, kind, name), join(cluster.configDir, name), { recursive: true });
      makeReadable(join(cluster.configDir, name));
    }
  }
  cpSync(join(fixtureRoot, 'passing', 'conf.d'), join(cluster.configDir, 'conf.d'), { recursive: true });
  makeReadable(join(cluster.configDir, 'conf.d'));
});
after(() => cluster?.stop());

/** Some server paths reject a line without a message (e.g. an unresolvable RADIUS server): type is then null. */
function isErrorRow(row: ServerRow): boolean {
  return row.error !== null || row.type === null;
}

/**
 * pgssl's address as the server prints it (address, netmask), for comparison:
 * IPv6 expanded on both sides, since the server shortens it its own way.
 */
function addressAsServer(rule: HbaRule): { address: string | null; netmask: string | null } {
  const address = rule.address;
  if (!address) return { address: null, netmask: null };
  if (address.kind !== 'ip') return { address: address.kind === 'hostname' ? address.hostname : address.kind, netmask: null };
  const bits = address.family === 4 ? 32 : 128;
  const mask = address.netmask ?? maskText(address.family, address.prefix);
  return address.family === 4 ? { address: address.ip, netmask: mask } : { address: expandIPv6(address.ip), netmask: expandIPv6(mask) };
  function maskText(family: 4 | 6, prefix: number): string {
    const on = (i: number) => (i < prefix ? 1 : 0);
    if (family === 4) return [0, 1, 2, 3].map((o) => parseInt(Array.from({ length: 8 }, (_, b) => on(o * 8 + b)).join(''), 2)).join('.');
    return Array.from({ length: bits / 16 }, (_, g) => parseInt(Array.from({ length: 16 }, (_, b) => on(g * 16 + b)).join(''), 2).toString(16)).join(':');
  }
}

function serverAddress(row: ServerRow): { address: string | null; netmask: string | null } {
  if (row.address?.includes(':')) return { address: expandIPv6(row.address), netmask: row.netmask === null ? null : expandIPv6(row.netmask) };
  return { address: row.address, netmask: row.netmask };
}

/**
 * Only this machine can match the row, judged from the server's own reading
 * (127/8 or narrower, ::1/128, localhost, samehost): an independent check of
 * which rules the rewrite must leave as host.
 */
function serverLoopbackOnly(row: ServerRow): boolean {
  if (row.address === 'samehost' || row.address === 'localhost') return true;
  if (row.address?.startsWith('127.') && row.netmask?.startsWith('255.')) return true;
  return row.address === '::1' && row.netmask === 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
}

function comparable(row: ServerRow) {
  return { line: row.line_number, type: row.type, database: row.database, user: row.user_name, address: row.address, netmask: row.netmask, method: row.auth_method };
}

async function checkPassing(t: TestContext, text: string): Promise<void> {
  writeFileSync(cluster.hbaFile, text);
  const original = await serverRules();
  const unsupported = original.find((r) => r.error && /not supported by this build/.test(r.error));
  if (unsupported) {
    t.skip(`this PostgreSQL ${cluster.major} build: ${unsupported.error}`);
    return;
  }
  assert.deepEqual(original.filter(isErrorRow), [], 'the server accepts the fixture');
  const loaded = loadHba(cluster.hbaFile, cluster.major);
  assert.deepEqual(loaded.errors, [], 'pgssl accepts it too');
  assert.equal(loaded.rules.length, original.length, 'same number of rules');
  loaded.rules.forEach((rule, i) => {
    const row = original[i];
    assert.equal(rule.line, row.line_number);
    assert.equal(rule.type, row.type);
    assert.deepEqual(rule.databases.map((t) => t.value), row.database, `line ${rule.line}: databases`);
    assert.deepEqual(rule.users.map((t) => t.value), row.user_name, `line ${rule.line}: users`);
    assert.deepEqual(addressAsServer(rule), serverAddress(row), `line ${rule.line}: address`);
    if (row.file_name) assert.equal(rule.file, row.file_name);
  });

  const plan = planRewrite(loaded);
  try {
    for (const file of plan.files) writeFileSync(file.path, file.after);
    const rewritten = await serverRules();
    assert.deepEqual(rewritten.filter(isErrorRow), [], 'the server accepts the rewritten file');
    const changed = new Set(plan.changes.map((c) => `${c.file}:${c.line}`));
    assert.equal(rewritten.length, original.length);
    original.forEach((row, i) => {
      const key = `${row.file_name ?? cluster.hbaFile}:${row.line_number}`;
      const expected = changed.has(key) ? { ...comparable(row), type: 'hostssl' } : comparable(row);
      if (changed.has(key)) assert.equal(row.type, 'host');
      assert.deepEqual(comparable(rewritten[i]), expected, `rule at ${key}`);
    });
    // Nothing missed: by the server's reading, no host rule that a remote client can match is left.
    const missed = rewritten.filter((row) => row.type === 'host' && row.auth_method !== 'reject' && !serverLoopbackOnly(row));
    assert.deepEqual(missed, [], 'every remote host rule became hostssl');
  } finally {
    for (const file of plan.files) writeFileSync(file.path, file.before);
  }
}

describe('passing fixtures: pgssl reads what the server reads, and the rewrite changes only the keyword', () => {
  for (const fixture of hbaFixtures('passing')) {
    it(fixture.name, async (t) => {
      const reason = appliesTo(fixture, cluster.major);
      if (reason) return t.skip(reason);
      await checkPassing(t, fixture.text);
    });
  }
  it('a generated 2,000-rule file', async (t) => checkPassing(t, generatedHba(2000)));
});

describe('failing fixtures: refused by the server and by pgssl at the same line', () => {
  for (const fixture of hbaFixtures('failing')) {
    it(fixture.name, async (t) => {
      const reason = appliesTo(fixture, cluster.major);
      if (reason) return t.skip(reason);
      writeFileSync(cluster.hbaFile, fixture.text);
      if (fixture.errorLine === 0) return checkRefusedAtStart(fixture.text);
      const serverError = (await serverRules()).find(isErrorRow);
      assert.ok(serverError, 'the server refuses it');
      assert.equal(serverError.line_number, fixture.errorLine, `server: ${serverError.error}`);
      const ours = loadHba(cluster.hbaFile, cluster.major).errors[0];
      assert.ok(ours, 'pgssl refuses it');
      assert.equal(ours.line, fixture.errorLine, `pgssl: ${ours.message}`);
    });
  }
});

/**
 * A file without rules has no error row (pg_hba_file_rules is just empty):
 * the server's verdict is that it does not start with it. The good file is put
 * back and the server started again whatever happens.
 */
async function checkRefusedAtStart(text: string): Promise<void> {
  const ours = loadHba(cluster.hbaFile, cluster.major).errors;
  assert.equal(ours.length, 1, 'pgssl refuses it, once');
  assert.equal(ours[0].line, 0);
  assert.match(ours[0].message, /contains no entries/);
  assert.deepEqual(await serverRules(), [], 'no rule and no error row: only a start can tell');
  const good = 'local all all trust\n';
  const logBefore = readFileSync(cluster.logFile).length;
  let started = true;
  try {
    writeFileSync(cluster.hbaFile, text);
    try {
      cluster.restart();
    } catch {
      started = false;
    }
  } finally {
    writeFileSync(cluster.hbaFile, good);
    if (!started) cluster.restart();
  }
  assert.equal(started, false, 'the server refuses to start');
  assert.match(readFileSync(cluster.logFile).subarray(logBefore).toString('utf8'), /contains no entries/);
  assert.deepEqual(loadHba(cluster.hbaFile, cluster.major).errors, [], 'the good file is back');
}
