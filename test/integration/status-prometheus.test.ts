/**
 * `pgssl status --format prometheus [--output FILE]` through the built CLI
 * against a real cluster: the metrics follow what the server really does
 * (ssl off, then a working certificate and hostssl rules), the expiry is the
 * served certificate's notAfter as openssl reads it, --output replaces the
 * file atomically with mode 0644, and a server that cannot be reached still
 * gives metrics (pgssl_status_success 0, exit 1). Every refusal changes nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { cleanEnv, freePort, startCluster, type Cluster } from '../support/cluster.js';
import { parseExposition } from '../support/exposition.js';
import { tempDir } from '../support/tempDir.js';
import { enforcedHba, installOpensslCert, turnSslOn, type InstalledCert } from '../support/tlsSetup.js';
import { treeSnapshot } from '../support/treeSnapshot.js';

function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return parseExposition(text)
    .get(name)
    ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function promtoolCheck(text: string): void {
  if (spawnSync('promtool', ['--version']).status !== 0) return; // the strict parser above has read it; promtool is optional
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(result.status, 0, `promtool check metrics:\n${result.stdout}${result.stderr}`);
}

describe('status --format prometheus on a real cluster', () => {
  let cluster: Cluster;
  let cert: InstalledCert;
  const out = tempDir('pgssl-textfile');
  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.stop());

  it('ssl off: exit 3, compliant 0, TLS not working, SSL_OFF counted as an error, no expiry', async () => {
    const r = await runPgssl(['status', '--format', 'prometheus'], { env: cluster.env() });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(metric(r.stdout, 'pgssl_status_success'), 1);
    assert.equal(metric(r.stdout, 'pgssl_compliant'), 0);
    assert.equal(metric(r.stdout, 'pgssl_tls_working'), 0);
    assert.equal(metric(r.stdout, 'pgssl_findings', { id: 'SSL_OFF', severity: 'error' }), 1);
    assert.equal(metric(r.stdout, 'pgssl_certificate_expiry_timestamp_seconds'), undefined);
    const labels = parseExposition(r.stdout).get('pgssl_server_info')!.samples[0].labels;
    assert.deepEqual(labels, { host: cluster.socketDir, port: String(cluster.port), data_directory: cluster.dataDir, version: labels.version });
    assert.match(labels.version, /^\d{6}$/);
    promtoolCheck(r.stdout);
  });

  it('TLS on and enforced: exit 0, compliant 1, and the expiry is the notAfter openssl reads from the served file', async () => {
    cert = installOpensslCert(cluster, { days: 40 });
    writeFileSync(cluster.hbaFile, enforcedHba);
    await turnSslOn(cluster, cert);
    const r = await runPgssl(['status', '--format', 'prometheus'], { env: cluster.env() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(metric(r.stdout, 'pgssl_compliant'), 1);
    assert.equal(metric(r.stdout, 'pgssl_tls_working'), 1);
    const endDate = execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', cert.certPath], { encoding: 'utf8' }).trim().replace(/^notAfter=/, '');
    assert.equal(metric(r.stdout, 'pgssl_certificate_expiry_timestamp_seconds'), Date.parse(endDate) / 1000);
    const findings = parseExposition(r.stdout).get('pgssl_findings')?.samples ?? [];
    assert.deepEqual(findings.filter((s) => s.labels.severity === 'error'), [], 'compliant: no error finding');
    promtoolCheck(r.stdout);
  });

  it('a warning shows as a finding without changing compliance (CERT_EXPIRES_SOON with --expiry-warn-days 60)', async () => {
    const r = await runPgssl(['status', '--format', 'prometheus', '--expiry-warn-days', '60'], { env: cluster.env() });
    assert.equal(r.code, 0);
    assert.equal(metric(r.stdout, 'pgssl_compliant'), 1);
    assert.equal(metric(r.stdout, 'pgssl_findings', { id: 'CERT_EXPIRES_SOON', severity: 'warning' }), 1);
  });

  it('--output replaces the file atomically, mode 0644, leaving no temp file beside it', async () => {
    const file = join(out, 'pgssl-main.prom');
    writeFileSync(file, 'old content\n', { mode: 0o600 });
    const r = await runPgssl(['status', '--format', 'prometheus', '--output', file], { env: cluster.env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'nothing on stdout with --output');
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.equal(metric(readFileSync(file, 'utf8'), 'pgssl_compliant'), 1);
    assert.deepEqual(readdirSync(out), ['pgssl-main.prom']);
  });

  it('--json and --format json give the same document', async () => {
    const a = parseJsonOutput(await runPgssl(['status', '--json'], { env: cluster.env() }));
    const b = parseJsonOutput(await runPgssl(['status', '--format', 'json'], { env: cluster.env() }));
    assert.deepEqual(Object.keys(b), Object.keys(a));
    assert.deepEqual(b.findings, a.findings);
    assert.equal(b.compliance, 'compliant');
  });
});

describe('status --format prometheus when the server cannot be reached, and refusals', () => {
  const noServer = tempDir('pgssl-no-server');
  const out = tempDir('pgssl-textfile');
  let port: number;
  before(async () => {
    port = await freePort();
  });
  const env = () => cleanEnv({ PGHOST: noServer, PGPORT: String(port), PGUSER: 'postgres' });

  it('no server: exit 1, the reason on stderr, and metrics with pgssl_status_success 0 in the file', async () => {
    const file = join(out, 'pgssl-down.prom');
    const r = await runPgssl(['status', '--format', 'prometheus', '--output', file], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no server socket/i);
    const text = readFileSync(file, 'utf8');
    assert.equal(metric(text, 'pgssl_status_success', { host: noServer, port: String(port) }), 1 - 1);
    assert.equal(parseExposition(text).has('pgssl_compliant'), false, 'no verdict, so no compliance claimed either way');
    promtoolCheck(text);
  });

  it('--output into a folder that does not exist: exit 1 naming the file and the fix, nothing created', async () => {
    const before = treeSnapshot(out);
    const file = join(out, 'missing', 'pgssl.prom');
    const r = await runPgssl(['status', '--format', 'prometheus', '--output', file], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`could not write ${file.replace(/[.]/g, '\\.')}: ENOENT`));
    assert.match(r.stderr, /HINT: Check that the folder of .* exists and that this user may create files in it/);
    assert.deepEqual(treeSnapshot(out), before);
  });

  it('--json beside --format prometheus: exit 2 before connecting, nothing written', async () => {
    const file = join(out, 'never.prom');
    const r = await runPgssl(['status', '--json', '--format', 'prometheus', '--output', file], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--json asks for --format json, but --format prometheus was given too/);
    assert.doesNotMatch(r.stderr, /no server socket/i, 'refused before connecting');
    assert.equal(existsSync(file), false);
  });

  it('an unknown --format or an empty --output: exit 2, every problem in one message', async () => {
    const r = await runPgssl(['status', '--format', 'xml', '--output', ''], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /2 invalid options:\n {2}--format xml: expected one of text, json, prometheus\n {2}--output "": expected a file name/);
  });
});
