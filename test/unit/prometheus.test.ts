/**
 * `pgssl status --format prometheus` as text: the report → metrics mapping,
 * checked with the strict exposition parser (test/support/exposition.ts) and,
 * when installed, with Prometheus's own `promtool check metrics`. The parser
 * itself is shown to refuse what the format forbids, so it can fail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildStatusReport } from '../../src/status/report.js';
import { renderPrometheus } from '../../src/status/prometheus.js';
import type { StatusEvidence } from '../../src/status/evidence.js';
import type { ServerHbaRule } from '../../src/server/hbaFileRules.js';
import { parseExposition } from '../support/exposition.js';

const now = new Date('2026-11-29T00:00:00Z');
const notAfter = '2027-01-15T12:00:00.000Z';

function setting(name: string, value: string) {
  return { name, value, source: 'configuration file', sourcefile: null, sourceline: null, pendingRestart: false };
}

function rule(type: string, address: string | null, netmask: string | null, authMethod = 'scram-sha-256'): ServerHbaRule {
  return { fileName: null, lineNumber: 1, type, database: ['all'], userName: ['all'], address, netmask, authMethod, options: null, error: null };
}

function evidence(overrides: Partial<StatusEvidence> = {}, dataDirectory = '/var/lib/postgresql/16/main'): StatusEvidence {
  return {
    checkedAt: now.toISOString(),
    connection: { host: '/var/run/postgresql', port: 5432, user: 'postgres', database: 'postgres', tls: false },
    server: {
      version: 'PostgreSQL 16.4',
      versionNum: 160004,
      major: 16,
      currentUser: 'postgres',
      superuser: true,
      inRecovery: false,
      settings: { ssl: setting('ssl', 'on'), ssl_min_protocol_version: setting('ssl_min_protocol_version', 'TLSv1.2'), data_directory: setting('data_directory', dataDirectory) },
      fileSettings: [],
    },
    listen: { addresses: '*', localOnly: false, noTcp: false },
    tls: {
      probedAt: '127.0.0.1:5432',
      accepted: true,
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      servedCertificate: { subject: 'CN=db1', issuer: 'CN=pgssl CA', serialNumber: '01', subjectAltNames: ['DNS:db1'], notBefore: '2026-01-01T00:00:00.000Z', notAfter, daysLeft: 47, keyType: 'ec', keyBits: 256, selfSigned: false, isCA: false, fingerprintSha256: 'AA' },
    },
    weakTls: { skipped: 'settings leave no room', results: [] },
    locality: { local: true },
    files: [],
    hba: { rules: [rule('local', null, null, 'peer'), rule('hostssl', '0.0.0.0', '0.0.0.0')] },
    sessions: { withoutTls: [], otherRolesHidden: false },
    limitations: [],
    ...overrides,
  };
}

const server = { host: '/var/run/postgresql', port: 5432 };
const metrics = (e: StatusEvidence) => renderPrometheus({ server, checkedAt: now, report: buildStatusReport(e, { now, expiryWarnDays: 30 }) });
const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  parseExposition(text)
    .get(name)
    ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('renderPrometheus', () => {
  it('a compliant server: success, compliant, TLS working, the expiry as Unix time, no findings', () => {
    const text = metrics(evidence());
    const families = parseExposition(text);
    assert.equal(value(text, 'pgssl_status_success'), 1);
    assert.equal(value(text, 'pgssl_compliant'), 1);
    assert.equal(value(text, 'pgssl_tls_working'), 1);
    assert.equal(value(text, 'pgssl_certificate_expiry_timestamp_seconds'), Date.parse(notAfter) / 1000);
    assert.equal(value(text, 'pgssl_status_timestamp_seconds'), now.getTime() / 1000);
    assert.equal(families.has('pgssl_findings'), false, 'no findings: no pgssl_findings series');
    for (const family of families.values()) {
      assert.equal(family.type, 'gauge', family.name);
      assert.ok(family.help && family.help.length > 10, `${family.name} has a HELP line`);
      for (const sample of family.samples) assert.deepEqual([sample.labels.host, sample.labels.port], ['/var/run/postgresql', '5432'], `${family.name} carries the server labels`);
    }
    assert.deepEqual(families.get('pgssl_server_info')!.samples[0].labels, { host: '/var/run/postgresql', port: '5432', data_directory: '/var/lib/postgresql/16/main', version: '160004' });
  });

  it('ssl off: not compliant, TLS not working, no expiry, SSL_OFF counted with its severity', () => {
    const e = evidence({ server: { ...evidence().server, settings: { ssl: setting('ssl', 'off') } }, tls: { probedAt: '127.0.0.1:5432', accepted: false, reason: 'the server does not support SSL' } });
    const text = metrics(e);
    assert.equal(value(text, 'pgssl_status_success'), 1, 'a verdict was reached');
    assert.equal(value(text, 'pgssl_compliant'), 0);
    assert.equal(value(text, 'pgssl_tls_working'), 0);
    assert.equal(value(text, 'pgssl_certificate_expiry_timestamp_seconds'), undefined);
    assert.equal(value(text, 'pgssl_findings', { id: 'SSL_OFF', severity: 'error' }), 1);
  });

  it('pg_hba.conf unreadable: no verdict, so status_success 0 and no pgssl_compliant, but TLS facts stay', () => {
    const text = metrics(evidence({ hba: undefined }));
    assert.equal(value(text, 'pgssl_status_success'), 0);
    assert.equal(parseExposition(text).has('pgssl_compliant'), false);
    assert.equal(value(text, 'pgssl_tls_working'), 1);
  });

  it('no report at all (server down): only status_success 0 and the timestamp, with the same labels', () => {
    const text = renderPrometheus({ server: { host: 'db1.example.com', port: 6543 }, checkedAt: now });
    const families = parseExposition(text);
    assert.deepEqual([...families.keys()], ['pgssl_status_success', 'pgssl_status_timestamp_seconds']);
    assert.deepEqual(families.get('pgssl_status_success')!.samples, [{ name: 'pgssl_status_success', labels: { host: 'db1.example.com', port: '6543' }, value: 0 }]);
  });

  it('escapes backslash, double quote and line feed in label values, and they read back byte for byte', () => {
    const odd = '/srv/pg "main"\\data\nnext';
    const text = metrics(evidence({}, odd));
    assert.match(text, /data_directory="\/srv\/pg \\"main\\"\\\\data\\nnext"/);
    assert.equal(parseExposition(text).get('pgssl_server_info')!.samples[0].labels.data_directory, odd);
    promtoolAccepts(text);
  });

  it('passes promtool check metrics (the linter Prometheus ships) for each shape of output', (t) => {
    if (!promtoolPresent()) return t.skip('promtool is not installed (Debian package prometheus; .ci/run installs it)');
    const warned = evidence({ tls: { ...evidence().tls, servedCertificate: { ...evidence().tls.servedCertificate!, daysLeft: 3 } } });
    for (const text of [metrics(evidence()), metrics(warned), metrics(evidence({ hba: undefined })), renderPrometheus({ server, checkedAt: now })]) promtoolAccepts(text);
  });
});

function promtoolPresent(): boolean {
  return spawnSync('promtool', ['--version']).status === 0;
}

/** promtool check metrics reads stdin and exits 1 naming every problem (format errors and lint). */
function promtoolAccepts(text: string): void {
  if (!promtoolPresent()) return;
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(result.status, 0, `promtool check metrics refused:\n${result.stdout}${result.stderr}\n--- the metrics:\n${text}`);
}

describe('parseExposition (the strict test parser) refuses what the format forbids', () => {
  const good = '# HELP a_metric Something.\n# TYPE a_metric gauge\na_metric{x="1"} 1\n';
  it('accepts a well-formed family', () => {
    assert.equal(parseExposition(good).get('a_metric')!.samples[0].value, 1);
  });
  const bad: [string, string, RegExp][] = [
    ['no final line feed', good.slice(0, -1), /line feed/],
    ['a sample before its TYPE', 'a_metric 1\n# TYPE a_metric gauge\n', /before its TYPE/],
    ['the same series twice', good + 'a_metric{x="1"} 2\n', /twice/],
    ['a family split in two groups', good + '# TYPE b gauge\nb 1\na_metric{x="2"} 1\n', /one group/],
    ['an unknown escape in a label value', '# TYPE a gauge\na{x="\\t"} 1\n', /invalid escape/],
    ['an unescaped quote', '# TYPE a gauge\na{x="say "hi""} 1\n', /expected , or }/],
    ['a second TYPE', '# TYPE a gauge\n# TYPE a gauge\n', /second TYPE/],
    ['an invalid label name', '# TYPE a gauge\na{1x="y"} 1\n', /invalid label name/],
    ['a reserved label name', '# TYPE a gauge\na{__name__="y"} 1\n', /invalid label name/],
    ['a value that is not a number', '# TYPE a gauge\na 1,5\n', /invalid value/],
    ['two spaces before the value', '# TYPE a gauge\na  1\n', /one space/],
    ['an unknown type', '# TYPE a meter\n', /unknown type/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}`, () => assert.throws(() => parseExposition(text), message));
  }
});
