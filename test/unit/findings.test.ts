import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateFindings, judgeCompliance } from '../../src/status/findings.js';
import type { StatusEvidence } from '../../src/status/evidence.js';
import type { ServerHbaRule } from '../../src/server/hbaFileRules.js';

const now = new Date('2026-11-29T00:00:00Z');

function setting(name: string, value: string) {
  return { name, value, source: 'configuration file', sourcefile: null, sourceline: null, pendingRestart: false };
}

function rule(type: string, address: string | null, netmask: string | null, authMethod = 'scram-sha-256', lineNumber = 1): ServerHbaRule {
  return { fileName: null, lineNumber, type, database: ['all'], userName: ['all'], address, netmask, authMethod, options: null, error: null };
}

function evidence(overrides: Partial<StatusEvidence> = {}): StatusEvidence {
  return {
    checkedAt: now.toISOString(),
    connection: { host: '/tmp', port: 5432, user: 'postgres', database: 'postgres', tls: false },
    server: {
      version: 'PostgreSQL 16.4',
      versionNum: 160004,
      major: 16,
      currentUser: 'postgres',
      superuser: true,
      inRecovery: false,
      settings: { ssl: setting('ssl', 'on'), ssl_min_protocol_version: setting('ssl_min_protocol_version', 'TLSv1.2'), ssl_ciphers: setting('ssl_ciphers', 'ECDHE+AESGCM:!aNULL') },
      fileSettings: [],
    },
    listen: { addresses: '*', localOnly: false, noTcp: false },
    tls: { probedAt: '127.0.0.1:5432', accepted: true, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    weakTls: { skipped: 'settings leave no room', results: [] },
    locality: { local: true },
    files: [],
    hba: { rules: [rule('local', null, null, 'peer'), rule('host', '127.0.0.1', '255.255.255.255'), rule('hostssl', '0.0.0.0', '0.0.0.0')] },
    sessions: { withoutTls: [], otherRolesHidden: false },
    limitations: [],
    ...overrides,
  };
}

const ids = (e: StatusEvidence) => evaluateFindings(e, { now, expiryWarnDays: 30 }).map((f) => f.id);

describe('evaluateFindings', () => {
  it('finds nothing on a compliant server, which is judged compliant', () => {
    const e = evidence();
    assert.deepEqual(ids(e), []);
    assert.equal(judgeCompliance(e, []), 'compliant');
  });
  it('SSL_OFF when ssl is off; TLS_NOT_WORKING only when ssl claims on', () => {
    const off = evidence({ server: { ...evidence().server, settings: { ssl: setting('ssl', 'off') } }, tls: { probedAt: 'x', accepted: false, reason: 'N' } });
    assert.ok(ids(off).includes('SSL_OFF'));
    assert.ok(!ids(off).includes('TLS_NOT_WORKING'));
    const broken = evidence({ tls: { probedAt: 'x', accepted: false, reason: 'N' } });
    assert.ok(ids(broken).includes('TLS_NOT_WORKING'));
  });
  it('flags host and hostnossl rules that reach remote clients, not loopback or reject rules', () => {
    const e = evidence({
      hba: {
        rules: [
          rule('host', '10.0.0.0', '255.0.0.0', 'md5', 4),
          rule('host', '::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'),
          rule('host', 'samehost', null),
          rule('host', 'all', null, 'reject'),
          rule('hostnossl', '0.0.0.0', '0.0.0.0', 'trust', 9),
          rule('hostnossl', '0.0.0.0', '0.0.0.0', 'reject'),
        ],
      },
    });
    const findings = evaluateFindings(e, { now, expiryWarnDays: 30 });
    const plain = findings.find((f) => f.id === 'HBA_PLAIN_REMOTE');
    assert.deepEqual(plain?.items, ['pg_hba.conf:4: host all all 10.0.0.0/255.0.0.0 md5']);
    assert.deepEqual(findings.find((f) => f.id === 'HBA_NOSSL_ALLOW')?.items?.length, 1);
    assert.equal(judgeCompliance(e, findings), 'not-compliant');
  });
  it('makes a remote session without TLS an error, a loopback one a warning', () => {
    const session = { pid: 7, user: 'app', database: 'db', applicationName: 'x', backendType: 'client backend', tls: false, tlsVersion: null, cipher: null };
    const local = evaluateFindings(evidence({ sessions: { withoutTls: [{ ...session, clientAddr: '127.0.0.1' }], otherRolesHidden: false } }), { now, expiryWarnDays: 30 });
    const remote = evaluateFindings(evidence({ sessions: { withoutTls: [{ ...session, clientAddr: '198.51.100.7' }], otherRolesHidden: false } }), { now, expiryWarnDays: 30 });
    assert.equal(local[0].severity, 'warning');
    assert.equal(remote[0].severity, 'error');
    assert.match(remote[0].items![0], /pid 7 client backend user=app db=db from 198\.51\.100\.7/);
  });
  it('judges expiry from the served certificate', () => {
    const cert = (notAfter: string, notBefore = '2026-01-01T00:00:00Z') => ({
      subject: 'CN=x', issuer: 'CN=ca', serialNumber: '1', subjectAltNames: [], notBefore, notAfter,
      daysLeft: Math.floor((Date.parse(notAfter) - now.getTime()) / 86_400_000), keyType: 'rsa', keyBits: 2048, selfSigned: false, isCA: false, fingerprintSha256: notAfter,
    });
    const withCert = (c: ReturnType<typeof cert>) => ids(evidence({ tls: { probedAt: 'x', accepted: true, servedCertificate: c } }));
    assert.ok(withCert(cert('2026-11-01T00:00:00Z')).includes('CERT_EXPIRED'));
    assert.ok(withCert(cert('2026-12-10T00:00:00Z')).includes('CERT_EXPIRES_SOON'));
    assert.deepEqual(withCert(cert('2027-06-10T00:00:00Z')), []);
    assert.ok(withCert(cert('2027-06-10T00:00:00Z', '2026-12-01T00:00:00Z')).includes('CERT_NOT_YET_VALID'));
  });
  it('without any weak handshake, falls back to the settings and says it is not proven', () => {
    const e = evidence({ server: { ...evidence().server, settings: { ssl: setting('ssl', 'on'), ssl_min_protocol_version: setting('ssl_min_protocol_version', 'TLSv1'), ssl_ciphers: setting('ssl_ciphers', 'HIGH:MEDIUM:+3DES:!aNULL') } } });
    const findings = evaluateFindings(e, { now, expiryWarnDays: 30 });
    assert.deepEqual(findings.map((f) => f.id).sort(), ['WEAK_CIPHERS', 'WEAK_MIN_PROTOCOL']);
    for (const f of findings) assert.match(f.message, /not proven/);
  });
  const weakSettings = { ssl: setting('ssl', 'on'), ssl_min_protocol_version: setting('ssl_min_protocol_version', 'TLSv1'), ssl_ciphers: setting('ssl_ciphers', 'AES128-SHA:DES-CBC3-SHA') };
  it('names each weak suite and old protocol the server accepted in a real handshake', () => {
    const e = evidence({
      server: { ...evidence().server, settings: weakSettings },
      weakTls: {
        results: [
          { probe: 'static-rsa', kind: 'cipher', outcome: 'accepted', protocol: 'TLSv1.2', cipher: 'AES128-SHA' },
          { probe: 'cbc', kind: 'cipher', outcome: 'refused', reason: 'sslv3 alert handshake failure' },
          { probe: '3des', kind: 'cipher', outcome: 'untestable', reason: 'no cipher match' },
          { probe: 'TLSv1', kind: 'protocol', outcome: 'accepted', protocol: 'TLSv1', cipher: 'AES128-SHA' },
          { probe: 'TLSv1.1', kind: 'protocol', outcome: 'refused', reason: 'x' },
        ],
      },
    });
    const findings = evaluateFindings(e, { now, expiryWarnDays: 30 });
    const ciphers = findings.find((f) => f.id === 'WEAK_CIPHERS')!;
    assert.match(ciphers.message, /accepted .*only weak suites .*: AES128-SHA\.$/);
    assert.deepEqual(ciphers.items, ['static RSA key exchange (no forward secrecy): accepted AES128-SHA over TLSv1.2']);
    const protocol = findings.find((f) => f.id === 'WEAK_MIN_PROTOCOL')!;
    assert.equal(protocol.severity, 'warning');
    assert.match(protocol.message, /accepted TLSv1 handshakes/);
  });
  it('a cipher list the server proved strong is no finding, whatever its tokens look like; a refused old protocol is context', () => {
    const e = evidence({
      server: { ...evidence().server, settings: { ...weakSettings, ssl_ciphers: setting('ssl_ciphers', 'HIGH:!aNULL') } },
      weakTls: {
        results: [
          { probe: 'static-rsa', kind: 'cipher', outcome: 'refused', reason: 'sslv3 alert handshake failure' },
          { probe: 'TLSv1', kind: 'protocol', outcome: 'refused', reason: 'tlsv1 alert internal error' },
        ],
      },
    });
    const findings = evaluateFindings(e, { now, expiryWarnDays: 30 });
    assert.deepEqual(findings.map((f) => [f.id, f.severity]), [['WEAK_MIN_PROTOCOL', 'info']]);
    assert.match(findings[0].message, /refused real TLS 1\.0 handshakes today \(tlsv1 alert internal error\)/);
  });
  it('SERVED_CERT_UNSUITABLE: an error when a problem is, with every problem listed', () => {
    const problem = (id: string, severity: 'error' | 'warning') => ({ id, severity, message: `the served certificate: ${id} text`, fix: `fix ${id}.` });
    const served = (...problems: ReturnType<typeof problem>[]) => evaluateFindings(evidence({ tls: { probedAt: 'x', accepted: true, servedCertificateProblems: problems } }), { now, expiryWarnDays: 30 });
    const bad = served(problem('KEY_TYPE_UNSUITABLE', 'error'), problem('NO_SUBJECT_ALT_NAME', 'warning'));
    assert.deepEqual(bad.map((f) => [f.id, f.severity]), [['SERVED_CERT_UNSUITABLE', 'error']]);
    assert.deepEqual(bad[0].items, ['KEY_TYPE_UNSUITABLE: KEY_TYPE_UNSUITABLE text', 'NO_SUBJECT_ALT_NAME: NO_SUBJECT_ALT_NAME text']);
    assert.equal(bad[0].fix, 'fix KEY_TYPE_UNSUITABLE. fix NO_SUBJECT_ALT_NAME.');
    assert.deepEqual(served(problem('NO_SUBJECT_ALT_NAME', 'warning')).map((f) => f.severity), ['warning']);
  });
  it('is "unknown", not compliant, when pg_hba.conf could not be read', () => {
    const e = evidence({ hba: undefined });
    assert.equal(judgeCompliance(e, evaluateFindings(e, { now, expiryWarnDays: 30 })), 'unknown');
  });
});
