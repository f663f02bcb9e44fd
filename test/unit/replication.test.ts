import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { conninfoChangeTakesEffect, formatConninfo, withVerifiedTls } from '../../src/replication/conninfoEdit.js';
import { detectConfigurationManagers, managedServerMessage, rotateThroughManager } from '../../src/replication/managers.js';
import { judgePrimaryConninfo } from '../../src/replication/primaryConninfo.js';
import { parseConninfo } from '../../src/server/conninfo.js';
import { planStandby } from '../../src/flow/standby/plan.js';
import { evaluateFindings } from '../../src/status/findings.js';
import { repoRoot } from '../support/pgbin.js';

const context = (readable: string[] = []) => ({ dataDirectory: '/srv/pg/standby', serverHome: '/var/lib/postgresql', readable: (path: string) => readable.includes(path) });

describe('judgePrimaryConninfo: what libpq will do with the standby\'s primary_conninfo', () => {
  const cases: [string, string, string | undefined][] = [
    ['host=db1 port=5432 user=replicator', 'plain-possible', undefined],
    ['host=db1 sslmode=prefer', 'plain-possible', 'prefer'],
    ['host=db1 sslmode=allow', 'plain-possible', 'allow'],
    ['host=db1 sslmode=disable', 'plain-possible', 'disable'],
    ['host=db1 sslmode=require', 'unverified', 'require'],
    ['postgresql://replicator@db1:5433/?sslmode=verify-ca', 'unverified', 'verify-ca'],
    ['host=db1 sslmode=verify-full sslrootcert=/etc/pg/ca.crt', 'verified', 'verify-full'],
    ['host=db1 sslmode=verify-full sslrootcert=/etc/pg/missing.crt', 'ca-unreadable', 'verify-full'],
    ['host=db1 sslmode=verify-full sslrootcert=system', 'verified', 'verify-full'],
    ['host=/var/run/postgresql port=5432', 'socket', undefined],
  ];
  for (const [conninfo, security, sslmode] of cases) {
    it(`${conninfo} → ${security}`, () => {
      const view = judgePrimaryConninfo(conninfo, context(['/etc/pg/ca.crt']));
      assert.equal(view.security, security);
      assert.equal(view.sslmode, sslmode);
    });
  }
  it('a relative sslrootcert is read from the data directory (the walreceiver\'s working directory); a missing one is ~/.postgresql/root.crt', () => {
    assert.equal(judgePrimaryConninfo('host=db1 sslmode=verify-full sslrootcert=primary-ca.crt', context(['/srv/pg/standby/primary-ca.crt'])).security, 'verified');
    const missing = judgePrimaryConninfo('host=db1 sslmode=verify-full', context());
    assert.equal(missing.security, 'ca-unreadable');
    assert.equal(missing.rootCertPath, '/var/lib/postgresql/.postgresql/root.crt');
  });
  it('empty is no streaming replication; an unterminated quote is unparsable', () => {
    assert.equal(judgePrimaryConninfo('', context()).security, 'none');
    assert.equal(judgePrimaryConninfo("host='db1", context()).security, 'unparsable');
  });
  it('never carries the password', () => {
    assert.ok(!JSON.stringify(judgePrimaryConninfo('host=db1 password=s3cret sslmode=require', context())).includes('s3cret'));
  });
});

describe('withVerifiedTls: primary_conninfo with verify-full, every other parameter kept in meaning', () => {
  const originals = [
    "user=replicator password='it\\'s' host=db1 port=5432 sslmode=prefer application_name=s1",
    "host=db1 options='-c statement_timeout=0' passfile=/var/lib/postgresql/.pgpass keepalives_idle=30",
    "user=replicator password='a\\\\b c\\'d' host=10.0.0.5",
    'postgresql://replicator:p%40ss@db1:5433/postgres?application_name=s2&target_session_attrs=any',
  ];
  for (const original of originals) {
    it(original, () => {
      const before = parseConninfo(original);
      const after = parseConninfo(withVerifiedTls(original, '/srv/pg/standby/primary-ca.crt'));
      assert.deepEqual(after, { ...before, sslmode: 'verify-full', sslrootcert: '/srv/pg/standby/primary-ca.crt' });
    });
  }
  it('quotes values with spaces, quotes, backslashes, or nothing', () => {
    assert.equal(formatConninfo({ a: 'x y', b: "it's", c: 'a\\b', d: '' }), "a='x y' b='it\\'s' c='a\\\\b' d=''");
  });
  it('primary_conninfo takes effect on reload from 13, at start only on 12', () => {
    assert.equal(conninfoChangeTakesEffect(12), 'restart');
    assert.equal(conninfoChangeTakesEffect(13), 'reload');
    assert.equal(conninfoChangeTakesEffect(18), 'reload');
  });
});

describe('planStandby refusals (before any change, without reaching the primary)', () => {
  const input = { conninfo: 'host=127.0.0.1 port=1 user=postgres', major: 15, dataDirectory: '/nonexistent/standby', owner: undefined, serverHome: undefined, state: { dir: '/nonexistent/state', owner: undefined } };
  it('PostgreSQL 12: primary_conninfo needs a restart, which pgssl does not do unasked', async () => {
    await assert.rejects(planStandby({ ...input, major: 12, caFile: '/nonexistent/ca.crt' }), (error: Error & { exitCode: number }) => {
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^PostgreSQL 12 reads primary_conninfo only when the server starts .* pgssl does not restart servers unasked; nothing was changed\. .*ALTER SYSTEM SET primary_conninfo/);
      return true;
    });
  });
  it('no CA: neither --ca-file nor pgssl\'s CA in the state folder', async () => {
    await assert.rejects(planStandby(input), /no CA to verify the primary with: --ca-file was not given and pgssl's state folder has no CA \(\/nonexistent\/state\/ca\.crt\); nothing was changed/);
  });
  it('an unreadable --ca-file', async () => {
    await assert.rejects(planStandby({ ...input, caFile: '/nonexistent/ca.crt' }), /cannot read the CA file \/nonexistent\/ca\.crt: .*nothing was changed/);
  });
  it('no primary_conninfo: nothing to secure', async () => {
    await assert.rejects(planStandby({ ...input, conninfo: '' }), /has no primary_conninfo: it does not stream from a primary/);
  });
  it('already verify-full with a readable CA, or a socket: nothing to change', async () => {
    const ca = join(repoRoot, 'test', 'fixtures', 'managers', 'plain', 'pg_hba.conf'); // any readable file
    assert.equal((await planStandby({ ...input, conninfo: `host=db1 sslmode=verify-full sslrootcert=${ca}` })).change, undefined);
    assert.equal((await planStandby({ ...input, conninfo: 'host=/var/run/postgresql' })).change, undefined);
  });
});

describe('detectConfigurationManagers on fixture data directories', () => {
  const fixture = (name: string) => join(repoRoot, 'test', 'fixtures', 'managers', name);
  const layout = (name: string, settings: Record<string, string> = {}) => ({ dataDirectory: fixture(name), configFile: join(fixture(name), 'postgresql.conf'), hbaFile: join(fixture(name), 'pg_hba.conf'), settings });
  it('Patroni: its header on postgresql.conf and pg_hba.conf, patroni.dynamic.json, postgresql.base.conf', () => {
    const [found, ...rest] = detectConfigurationManagers(layout('patroni'));
    assert.equal(rest.length, 0);
    assert.equal(found.tool, 'Patroni');
    assert.equal(found.evidence.length, 4);
    assert.deepEqual(found.overwrites, [join(fixture('patroni'), 'postgresql.conf'), join(fixture('patroni'), 'pg_hba.conf')]);
    assert.match(found.fix, /postgresql\.parameters .* postgresql\.pg_hba .*patronictl edit-config.*autobase, the Ansible variables postgresql_parameters and postgresql_pg_hba/);
  });
  it('Crunchy PGO: Patroni plus /pgconf/tls and the _crunchyrepl role', () => {
    const found = detectConfigurationManagers(layout('crunchy-pgo', { ssl_cert_file: '/pgconf/tls/tls.crt' }));
    assert.deepEqual(found.map((m) => m.tool), ['Crunchy PGO']);
    assert.ok(found[0].evidence.some((e) => /_crunchyrepl/.test(e)));
    assert.match(found[0].fix, /spec\.patroni\.dynamicConfiguration\.postgresql\.pg_hba/);
  });
  it('pg_auto_failover: its include lines and files', () => {
    const found = detectConfigurationManagers(layout('pg_auto_failover'));
    assert.deepEqual(found.map((m) => m.tool), ['pg_auto_failover']);
    assert.equal(found[0].evidence.length, 3);
    assert.match(found[0].fix, /pg_autoctl enable ssl/);
  });
  it('CloudNativePG: custom.conf and override.conf included, cnpg.config_sha256, /controller paths', () => {
    const found = detectConfigurationManagers(layout('cloudnativepg', { ssl_cert_file: '/controller/certificates/server.crt', unix_socket_directories: '/controller/run' }));
    assert.deepEqual(found.map((m) => m.tool), ['CloudNativePG']);
    assert.equal(found[0].evidence.length, 4);
    assert.match(found[0].fix, /spec\.postgresql\.parameters .*spec\.postgresql\.pg_hba/);
  });
  it('a plain server (a comment that merely mentions the header or the files) is managed by nobody', () => {
    assert.deepEqual(detectConfigurationManagers(layout('plain', { ssl_cert_file: '/etc/ssl/certs/ssl-cert-snakeoil.pem' })), []);
  });
  it('the refusal names the tool, the evidence, the files and the fix, and says nothing was changed', () => {
    const message = managedServerMessage(detectConfigurationManagers(layout('patroni')));
    assert.match(message, /^Patroni manages this server \(.*patroni\.dynamic\.json.*\) and regenerates .*postgresql\.conf, .*pg_hba\.conf: .* Nothing was changed\./);
    assert.match(message, /once the server serves TLS, pgssl rotate --check still watches its certificate's expiry\.$/);
  });
  it("rotate --check's next step when due on a managed server: the tool rotates it, with the tool's own setting, never pgssl rotate --yes", () => {
    const managed = [
      ...detectConfigurationManagers(layout('patroni')),
      ...detectConfigurationManagers(layout('crunchy-pgo', { ssl_cert_file: '/pgconf/tls/tls.crt' })),
      ...detectConfigurationManagers(layout('pg_auto_failover')),
      ...detectConfigurationManagers(layout('cloudnativepg', { ssl_cert_file: '/controller/certificates/server.crt' })),
    ];
    assert.deepEqual(managed.map((m) => m.tool), ['Patroni', 'Crunchy PGO', 'pg_auto_failover', 'CloudNativePG']);
    for (const manager of managed) {
      const next = rotateThroughManager(manager);
      assert.ok(next.startsWith(`${manager.tool} manages this server (${manager.evidence[0]})`), next);
      assert.ok(next.includes(`install the new certificate through ${manager.tool}.`), next);
      assert.ok(next.endsWith(manager.fix), next);
      assert.doesNotMatch(next, /pgssl rotate --yes/);
    }
  });
});

describe('status findings for replicas and managers', () => {
  const base = {
    checkedAt: '', connection: { host: '/tmp', port: 5432, user: 'postgres', database: 'postgres', tls: false },
    server: { version: 'PostgreSQL 15.8', versionNum: 150008, major: 15, currentUser: 'postgres', superuser: true, inRecovery: true, settings: {}, fileSettings: [] },
    listen: { addresses: '*', localOnly: false, noTcp: false }, tls: { probedAt: null, accepted: false }, weakTls: { results: [] }, locality: { local: true as const }, files: [], limitations: [],
  };
  const streaming = { pid: 1, status: 'streaming', conninfo: 'host=db1', senderHost: 'db1', senderPort: 5432 };
  const ids = (evidence: object) => evaluateFindings(evidence as never, { now: new Date(), expiryWarnDays: 30 }).filter((f) => /PRIMARY_CONNINFO|WALRECEIVER|CONFIG_MANAGED|HBA_INVALID/.test(f.id)).map((f) => `${f.id}:${f.severity}`);
  it('a standby: plain possible is an error, unverified a warning, verified nothing; not streaming a warning', () => {
    assert.deepEqual(ids({ ...base, replication: { walsenders: [], standby: { primaryConninfo: { security: 'plain-possible' }, walReceiver: streaming } } }), ['PRIMARY_CONNINFO_NO_TLS:error']);
    assert.deepEqual(ids({ ...base, replication: { walsenders: [], standby: { primaryConninfo: { security: 'unverified', sslmode: 'require' }, walReceiver: streaming } } }), ['PRIMARY_CONNINFO_UNVERIFIED:warning']);
    assert.deepEqual(ids({ ...base, replication: { walsenders: [], standby: { primaryConninfo: { security: 'verified' }, walReceiver: streaming } } }), []);
    assert.deepEqual(ids({ ...base, replication: { walsenders: [], standby: { primaryConninfo: { security: 'ca-unreadable' }, walReceiver: null } } }), ['PRIMARY_CONNINFO_CA_UNREADABLE:error', 'WALRECEIVER_NOT_STREAMING:warning']);
  });
  it('an empty pg_hba.conf (pg_hba_file_rules shows no row) is HBA_INVALID', () => {
    assert.deepEqual(ids({ ...base, hba: { rules: [] } }), ['HBA_INVALID:error']);
  });
  it('a managed server is CONFIG_MANAGED, with the evidence as items', () => {
    const finding = evaluateFindings({ ...base, managers: [{ tool: 'Patroni', evidence: ['x', 'y'], overwrites: ['/d/pg_hba.conf'], fix: 'use Patroni' }] } as never, { now: new Date(), expiryWarnDays: 30 }).find((f) => f.id === 'CONFIG_MANAGED')!;
    assert.equal(finding.severity, 'warning');
    assert.deepEqual(finding.items, ['x', 'y']);
    assert.equal(finding.fix, 'use Patroni');
  });
});
