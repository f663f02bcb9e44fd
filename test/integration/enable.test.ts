/**
 * pgssl enable on real clusters, run as a user runs it (the built CLI): the
 * happy path, idempotency, dry run, Debian layout, rollback, and every failure
 * named in the issue — each proving that files are byte-identical, settings
 * are as before and the admin still connects.
 */
import assert from 'node:assert/strict';
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { socketFrom } from '../../src/server/boundSocket.js';
import { pgsslLockKey } from '../../src/server/advisoryLock.js';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { opensslServerCert, startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { connectFrom } from '../support/connectFrom.js';

const remoteHba = `local   all          all                      trust
host    all          all        127.0.0.1/32  trust
host    all          all        0.0.0.0/0     trust
host    replication  all        0.0.0.0/0     trust
`;

function stateDir(): string {
  return join(tempDir('pgssl-state'), 'pgssl');
}

async function enable(cluster: Cluster, state: string, args: string[] = [], env: Record<string, string> = {}) {
  const result = await runPgssl(['enable', '--yes', '--json', ...args], { env: cluster.env({ PGSSL_STATE_DIR: state, ...env }), timeoutMs: 120_000 });
  return { ...result, report: result.stdout.trim() ? parseJsonOutput(result) : undefined };
}


describe('enable on a fresh cluster, then again, then rollback', () => {
  let cluster: Cluster;
  const state = stateDir();
  before(async () => {
    cluster = await startCluster({ hba: remoteHba });
  });
  after(() => cluster?.stop());

  it('--dry-run prints the plan and changes nothing', async () => {
    const before = await snapshot(cluster);
    const r = await enable(cluster, state, ['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.report.dryRun, true);
    assert.deepEqual(r.report.hba.changes.map((c: { line: number }) => c.line), [3, 4]);
    assert.match(r.report.hba.diff, /^\+hostssl all {10}all {8}0\.0\.0\.0\/0 {5}trust$/m);
    assert.ok(r.report.settings.some((s: { sql: string }) => s.sql === "ALTER SYSTEM SET ssl = 'on'"));
    assert.deepEqual(await snapshot(cluster), before, 'files byte-identical, settings unchanged');
    assert.throws(() => readdirSync(state), 'no CA, no journal created');
  });

  it('turns TLS on, requires it, proves both, and ends compliant', async () => {
    const r = await enable(cluster, state);
    assert.equal(r.code, 0, r.stderr);
    const steps = Object.fromEntries(r.report.steps.map((s: { id: string; status: string }) => [s.id, s.status]));
    assert.deepEqual(steps, { preflight: 'done', certificates: 'done', 'install-files': 'done', 'tls-on': 'done', enforce: 'done', sessions: 'already-done', report: 'done' });
    assert.equal(r.report.verification.tls.ok, true);
    assert.equal(r.report.verification.tls.servedFingerprint, r.report.verification.tls.expectedFingerprint);
    assert.equal(r.report.verification.tls.pgStatSsl.ssl, true);
    const attempt = r.report.verification.enforcement.attempts[0];
    assert.equal(attempt.plainRefused, true);
    assert.match(attempt.plainMessage, /no encryption|SSL off/);
    assert.equal(attempt.tlsAccepted, true);
    assert.equal(r.report.compliance.result, 'compliant');
    assert.match(r.stderr, /Step 5 of 7 — Require TLS in pg_hba\.conf and prove it/, 'human progress goes to stderr with --json');
  });

  it('real clients agree: psql verify-full works, a plain connection from 127.0.0.2 is refused, status exits 0', async () => {
    const verified = psql(`host=localhost hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(state, 'ca.crt')}`, 'SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /^TLSv1\.[23]$/);
    assert.match(await connectFrom(cluster, '127.0.0.2', false), /no pg_hba\.conf entry for host "127\.0\.0\.2".*(no encryption|SSL off)/);
    assert.equal(await connectFrom(cluster, '127.0.0.2', true), 'connected');
    const status = await runPgssl(['status'], { env: cluster.env() });
    assert.equal(status.code, 0, status.stdout);
  });

  it('a second run changes nothing and says so', async () => {
    const before = await snapshot(cluster);
    const journals = readdirSync(join(state, 'runs', readdirSync(join(state, 'runs'))[0])).length;
    const r = await enable(cluster, state);
    assert.equal(r.code, 0, r.stderr);
    const statuses = r.report.steps.filter((s: { id: string }) => !['preflight', 'report'].includes(s.id)).map((s: { status: string }) => s.status);
    assert.deepEqual(statuses, ['already-done', 'already-done', 'already-done', 'already-done', 'already-done']);
    assert.deepEqual(await snapshot(cluster), before);
    assert.equal(readdirSync(join(state, 'runs', readdirSync(join(state, 'runs'))[0])).length, journals, 'no new journal');
  });

  it('rollback restores every file byte for byte and the previous settings', async () => {
    const fresh = await startCluster({ hba: remoteHba });
    try {
      const freshState = stateDir();
      const before = await snapshot(fresh);
      assert.equal((await enable(fresh, freshState)).code, 0);
      const r = await runPgssl(['rollback', '--json'], { env: fresh.env({ PGSSL_STATE_DIR: freshState }) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseJsonOutput(r).rolledBack, true);
      assert.deepEqual(await snapshot(fresh), before, 'byte-identical files, ssl settings as before');
      assert.match(r.stderr, /you can still connect as before/);
      const again = await runPgssl(['rollback'], { env: fresh.env({ PGSSL_STATE_DIR: freshState }) });
      assert.match(again.stdout, /nothing to roll back/);
    } finally {
      fresh.stop();
    }
  });
});

describe('enable on the Debian layout', () => {
  it('rewrites the pg_hba.conf in the configuration folder and ends compliant', async () => {
    const cluster = await startCluster({ hba: remoteHba, debianLayout: true });
    try {
      const r = await enable(cluster, stateDir());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.report.server.hbaFile, cluster.hbaFile);
      assert.equal(r.report.hba.changes[0].file, cluster.hbaFile);
      assert.equal(r.report.compliance.result, 'compliant');
    } finally {
      cluster.stop();
    }
  });
});

describe('enable refuses or undoes, and leaves everything as it was', () => {
  let cluster: Cluster;
  before(async () => {
    // A logging collector, so that pgssl can quote the server's own log line when TLS fails.
    cluster = await startCluster({ hba: remoteHba, settings: { logging_collector: 'on', log_directory: "'log'" } });
    await cluster.query('CREATE ROLE app LOGIN');
  });
  after(() => cluster?.stop());

  async function expectUnchanged(run: () => Promise<{ code: number | null; stderr: string }>, code: number, message: RegExp, extraDirs: string[] = []) {
    const before = await snapshot(cluster, extraDirs);
    const result = await run();
    assert.equal(result.code, code, result.stderr);
    assert.match(result.stderr, message);
    assert.deepEqual(await snapshot(cluster, extraDirs), before, 'files byte-identical and settings as before');
    assert.equal((await cluster.query<{ one: number }>('SELECT 1 AS one'))[0].one, 1, 'the admin still connects');
    return result;
  }

  it('a certificate PostgreSQL cannot load (a folder the server cannot read): TLS fails, everything is undone, exit 3', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root: the folder must be readable by pgssl but not by the server user');
    const certDir = tempDir('pgssl-private');
    chmodSync(certDir, 0o700);
    const r = await expectUnchanged(
      () => enable(cluster, stateDir(), ['--cert-dir', certDir]),
      3,
      /TLS does not work after turning it on: .*The server log \(.*\) says: .*could not load server certificate file .*Permission denied[\s\S]*Every change was undone/,
      [certDir],
    );
    assert.deepEqual(readdirSync(certDir), [], 'the new files are removed again');
    assert.match(r.stderr, /ALTER SYSTEM RESET ssl\b/, 'the settings are undone as settings');
  });

  it('a pg_hba.conf the server rejects: refused before any change, exit 2', async () => {
    const original = remoteHba;
    const broken = original + 'host all all 10.0.0.0/8 radius radiusservers=no-such-host.invalid radiussecrets=x\n';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cluster.hbaFile, broken);
    try {
      await expectUnchanged(() => enable(cluster, stateDir()), 2, /the server itself rejects lines of .*pg_hba\.conf[\s\S]*:5:/);
    } finally {
      writeFileSync(cluster.hbaFile, original);
    }
  });

  it('the admin on a plain TCP connection through a rule the rewrite would close: refused, exit 2', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const original = readFileSync(cluster.hbaFile);
    // No loopback rule: the admin's only TCP path is the remote-looking 0.0.0.0/0.
    writeFileSync(cluster.hbaFile, 'local all all trust\nhost all all 0.0.0.0/0 trust\n');
    await cluster.reload();
    try {
      await expectUnchanged(
        () => enable(cluster, stateDir(), [], { PGHOST: '127.0.0.1', PGSSLMODE: 'disable', PGUSER: 'postgres' }),
        2,
        /the rewrite would lock you out: this session came in from 127\.0\.0\.1 without TLS through .*:2: host all all 0\.0\.0\.0\/0 trust, and with sslmode=disable your next connection would be matched by no rule\. Nothing was changed\./,
      );
    } finally {
      writeFileSync(cluster.hbaFile, original);
      await cluster.reload();
    }
  });

  it('a non-superuser: refused with what it needs, exit 1', async () => {
    await expectUnchanged(() => enable(cluster, stateDir(), [], { PGUSER: 'app' }), 1, /role "app" is not a superuser; nothing was changed/);
  });

  it('a concurrent run: refused while another holds the lock, exit 1', async () => {
    const holder = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres', application_name: 'other pgssl' });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [...pgsslLockKey]);
      await expectUnchanged(() => enable(cluster, stateDir()), 1, /another pgssl run is working on this server \(pid \d+, user postgres, application "other pgssl"\); nothing was changed/);
    } finally {
      await holder.end();
    }
  });

  it('allow_alter_system = off (17+): refused, exit 1', async (t) => {
    if (cluster.major < 17) return t.skip(`allow_alter_system exists from PostgreSQL 17; this is ${cluster.major}`);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(cluster.confFile, 'allow_alter_system = off\n');
    await cluster.reload();
    try {
      await expectUnchanged(() => enable(cluster, stateDir()), 1, /allow_alter_system = off/);
    } finally {
      const { readFileSync, writeFileSync } = await import('node:fs');
      writeFileSync(cluster.confFile, readFileSync(cluster.confFile, 'utf8').replace('allow_alter_system = off\n', ''));
      await cluster.reload();
    }
  });

  it('without a terminal and without --yes: fails at once naming the flag', async () => {
    const before = await snapshot(cluster);
    const r = await runPgssl(['enable'], { env: cluster.env({ PGSSL_STATE_DIR: stateDir() }) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs an answer and there is no terminal to ask on: pass --yes/);
    assert.deepEqual(await snapshot(cluster), before);
  });

  it('a live plain client the rewrite would refuse: listed before any change; --require-ready stops there (exit 2, nothing changed)', async () => {
    const legacy = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', ssl: false, application_name: 'legacy-report', stream: socketFrom('127.0.0.2') } as pg.ClientConfig);
    await legacy.connect();
    try {
      const r = await expectUnchanged(() => enable(cluster, stateDir(), ['--require-ready']), 2, /1 client\(s\) seen without TLS would be refused once pg_hba\.conf requires TLS[\s\S]*--require-ready/);
      assert.match(r.stderr, /postgres → database postgres from 127\.0\.0\.2 \(application legacy-report\): would be refused/);
      const planned = await enable(cluster, stateDir(), ['--dry-run']);
      assert.equal(planned.report.readiness.refused, 1, 'the dry run shows it too');
    } finally {
      await legacy.end();
    }
  });

  it('--only-address that selects no rule: refused before TLS is turned on, exit 2', async () => {
    await expectUnchanged(() => enable(cluster, stateDir(), ['--only-address', '10.9.9.0/24']), 2, /--only-address\/--only-db\/--only-user select none of the remote host rules .*10\.9\.9\.0\/24.*nothing was changed/);
  });
});

describe('kill -9 in the middle of enable', () => {
  /** Starts enable and kills it (SIGKILL) once its journal holds `entries` entries. */
  async function killDuringEnable(cluster: Cluster, state: string, entries: number): Promise<number> {
    const { spawn } = await import('node:child_process');
    const { existsSync, readFileSync } = await import('node:fs');
    const { pgsslBin } = await import('../support/cli.js');
    const child = spawn(process.execPath, [pgsslBin, 'enable', '--yes'], { env: cluster.env({ PGSSL_STATE_DIR: state }), stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let seen = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const runs = join(state, 'runs');
      if (existsSync(runs)) {
        for (const server of readdirSync(runs)) {
          for (const name of readdirSync(join(runs, server))) {
            try {
              seen = JSON.parse(readFileSync(join(runs, server, name), 'utf8')).entries.length;
            } catch {}
          }
        }
      }
      if (seen >= entries) {
        child.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await exited;
    return seen;
  }

  it('after the settings were registered: rollback brings back byte-identical files and settings', async () => {
    const cluster = await startCluster({ hba: remoteHba });
    try {
      const before = await snapshot(cluster);
      const state = stateDir();
      const seen = await killDuringEnable(cluster, state, 4);
      assert.ok(seen >= 4, `killed after ${seen} journal entries`);
      const r = await runPgssl(['rollback'], { env: cluster.env({ PGSSL_STATE_DIR: state }) });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await snapshot(cluster), before);
    } finally {
      cluster.stop();
    }
  });

  it('after the first file: a re-run finishes the job and ends compliant', async () => {
    const cluster = await startCluster({ hba: remoteHba });
    try {
      const state = stateDir();
      await killDuringEnable(cluster, state, 1);
      const r = await enable(cluster, state);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.report.compliance.result, 'compliant');
      assert.equal((await runPgssl(['status'], { env: cluster.env() })).code, 0);
    } finally {
      cluster.stop();
    }
  });
});

describe('enable with other certificate sources', () => {
  it('--self-signed: verify-full works when the client pins the certificate; status notes it', async () => {
    const cluster = await startCluster({ hba: remoteHba });
    try {
      const r = await enable(cluster, stateDir(), ['--self-signed']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.report.certificate.description, /self-signed/);
      const pinned = psql(`host=localhost hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(cluster.dataDir, 'server.crt')}`, 'SELECT 1');
      assert.equal(pinned.code, 0, pinned.stderr);
      const status = parseJsonOutput(await runPgssl(['status', '--json'], { env: cluster.env() }));
      assert.ok(status.findings.some((f: { id: string }) => f.id === 'CERT_SELF_SIGNED'));
      assert.equal(status.compliance, 'compliant');
    } finally {
      cluster.stop();
    }
  });

  it('--ca-cert/--ca-key: the server certificate is signed by the DBA\'s CA and verifies against it', async () => {
    const cluster = await startCluster({ hba: remoteHba });
    try {
      const { execFileSync } = await import('node:child_process');
      const { writeFileSync } = await import('node:fs');
      const dir = tempDir('pgssl-corp-ca');
      writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'corp.key'), '-out', join(dir, 'corp.crt'), '-days', '30', '-subj', '/CN=Corp CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
      const r = await enable(cluster, stateDir(), ['--ca-cert', join(dir, 'corp.crt'), '--ca-key', join(dir, 'corp.key')]);
      assert.equal(r.code, 0, r.stderr);
      const verified = psql(`host=localhost hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(dir, 'corp.crt')}`, 'SELECT 1');
      assert.equal(verified.code, 0, verified.stderr);
    } finally {
      cluster.stop();
    }
  });

  it('--allow-name-mismatch: a certificate that names another host is verified by its chain only, and the report says the name was not checked', async () => {
    const cluster = await startCluster({ hba: remoteHba });
    try {
      const files = opensslServerCert(tempDir('pgssl-mismatch'), { cn: 'db.example.com', san: 'DNS:db.example.com' });
      const refused = await enable(cluster, stateDir(), ['--cert-file', files.cert, '--key-file', files.key, '--ca-file', files.ca]);
      assert.equal(refused.code, 2, 'without the flag: refused before any change');
      assert.match(refused.stderr, /NAME_NOT_COVERED[\s\S]*--allow-name-mismatch/);
      const r = await enable(cluster, stateDir(), ['--cert-file', files.cert, '--key-file', files.key, '--ca-file', files.ca, '--allow-name-mismatch']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.report.verification.tls.hostNameChecked, false);
      assert.match(r.stderr, /verify-ca handshake .*host name not checked: --allow-name-mismatch/);
      assert.ok(r.report.nextSteps.some((s: string) => /Not checked: the host name/.test(s)));
      const byName = psql(`host=db.example.com hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${files.ca}`, 'SELECT 1');
      assert.equal(byName.code, 0, `clients that use the certificate's name verify it in full: ${byName.stderr}`);
    } finally {
      cluster.stop();
    }
  });
});
