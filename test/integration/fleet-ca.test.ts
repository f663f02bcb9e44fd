/**
 * One CA for a fleet (issue 12), as the DBA and the Ansible role run it: `ca
 * init --dir` on the "admin machine" (a folder of its own), then per cluster
 * `cert request` on the "database host" → `ca sign` → `enable --cert-file
 * --key-file --ca-file`. Both clusters end with certificates from the one CA
 * that psql verifies with verify-full; `ca sign` runs under strace and opens
 * no file of the host side; second runs change nothing, byte for byte; each
 * request `ca sign` must refuse is refused with its reason, exit 2, nothing
 * written; Go and Python cryptography read what it issues.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonOutput, pgsslBin, runPgssl } from '../support/cli.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { psql } from '../support/psql.js';
import { snapshot } from '../support/snapshot.js';
import { goParser, pythonParser } from '../support/strictParsers.js';
import { tempDir } from '../support/tempDir.js';
import { treeSnapshot } from '../support/treeSnapshot.js';

const commonJsonKeys = ['changed', 'command', 'diffs', 'error', 'exitCode', 'findings', 'ok', 'pgssl', 'schemaVersion', 'steps'];

const remoteHba = `local   all   all                  trust
host    all   all   127.0.0.1/32   trust
host    all   all   0.0.0.0/0      trust
`;

/** The admin machine: the CA and what it signs, nothing of a server. */
const admin = tempDir('pgssl-fleet-admin');
const caDir = join(admin, 'ca');
const adminEnv = cleanEnv({ HOME: '/nonexistent', PGSSL_STATE_DIR: join(admin, 'state') });
const bytes = (path: string) => readFileSync(path).toString('base64');
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

interface Host {
  cluster: Cluster;
  /** The database host's own folder: the request folder, and the certificate files copied back. */
  dir: string;
  requestDir: string;
  state: string;
  csrOnAdmin: string;
  crtOnAdmin: string;
}

async function certRequest(host: Host, args: string[] = []) {
  const r = await runPgssl(['cert', 'request', '--out-dir', host.requestDir, '--json', ...args], { env: host.cluster.env({ PGSSL_STATE_DIR: host.state }), timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  return parseJsonOutput(r);
}

async function caSign(args: string[]) {
  return runPgssl(['ca', 'sign', ...args, '--dir', caDir, '--json'], { env: adminEnv, timeoutMs: 120_000 });
}

async function enable(host: Host, extra: string[] = []) {
  const r = await runPgssl(['enable', '--yes', '--json', '--cert-file', join(host.dir, 'server.crt'), '--key-file', join(host.requestDir, 'server.key'), '--ca-file', join(host.dir, 'ca.crt'), ...extra], { env: host.cluster.env({ PGSSL_STATE_DIR: host.state }), timeoutMs: 180_000 });
  return { ...r, report: r.stdout.trim() ? parseJsonOutput(r) : undefined };
}

const hosts: Host[] = [];
before(async () => {
  const init = await runPgssl(['ca', 'init', '--dir', caDir], { env: adminEnv });
  assert.equal(init.code, 0, init.stderr);
  for (const name of ['db1', 'db2']) {
    const dir = tempDir(`pgssl-fleet-${name}`);
    hosts.push({ cluster: await startCluster({ hba: remoteHba, label: `pgssl-fleet-${name}` }), dir, requestDir: join(dir, 'request'), state: join(dir, 'state'), csrOnAdmin: join(admin, `${name}.csr`), crtOnAdmin: join(admin, `${name}.crt`) });
  }
});
after(() => {
  for (const host of hosts) host.cluster.stop();
});

describe('two clusters, one CA: cert request → ca sign → enable', () => {
  it('cert request writes the key (0600, the server OS user\'s, in a 0700 folder) and a CSR with the names enable would use', async () => {
    for (const host of hosts) {
      const report = await certRequest(host);
      // The JSON contract's common top level, then the keys the Ansible role reads.
      assert.deepEqual(Object.keys(report).sort(), [...commonJsonKeys, 'csr', 'key', 'keyType', 'names'].sort());
      assert.equal(report.changed, true);
      assert.equal(report.key, join(host.requestDir, 'server.key'));
      assert.equal(report.csr, join(host.requestDir, 'server.csr'));
      assert.equal(report.keyType, 'ECDSA P-256');
      // The cluster listens on localhost: enable's names for it (names.ts) include these.
      assert.ok(report.names.dns.includes('localhost'), JSON.stringify(report.names));
      assert.ok(report.names.ip.includes('127.0.0.1'), JSON.stringify(report.names));
      const key = statSync(report.key);
      assert.equal(key.mode & 0o777, 0o600);
      assert.equal(key.uid, host.cluster.osUser.uid, 'the key belongs to the server OS user');
      assert.equal(statSync(host.requestDir).mode & 0o777, 0o700);
      const text = openssl('req', '-in', report.csr, '-verify', '-noout', '-text').toString();
      assert.match(text, /X509v3 Extended Key Usage:\s*\n\s*TLS Web Server Authentication/);
      assert.match(text, /DNS:localhost/);
      assert.match(text, /IP Address:127\.0\.0\.1/);
      copyFileSync(report.csr, host.csrOnAdmin); // what the role does: fetch the CSR to the controller
    }
  });

  it('ca sign opens only the CSR, the CA folder\'s files and --out (strace), and issues a server certificate for exactly the request', async () => {
    for (const host of hosts) {
      const log = join(admin, 'strace.log');
      const run = spawnSync('strace', ['-f', '-e', 'trace=open,openat,openat2', '-o', log, process.execPath, pgsslBin, 'ca', 'sign', host.csrOnAdmin, '--dir', caDir, '--out', host.crtOnAdmin, '--json'], { env: adminEnv, encoding: 'utf8', timeout: 120_000 });
      assert.equal(run.status, 0, `${run.stderr}${run.error ?? ''}`);
      const report = JSON.parse(run.stdout);
      const opened = new Set([...readFileSync(log, 'utf8').matchAll(/open(?:at2?)?\((?:[^,]*, )?"([^"]+)"/g)].map((m) => m[1]));
      const underTests = [...opened].filter((path) => [admin, ...hosts.flatMap((h) => [h.dir, h.cluster.dir])].some((root) => path === root || path.startsWith(`${root}/`)));
      const allowed = (path: string) => path === host.csrOnAdmin || path === join(caDir, 'ca.crt') || path === join(caDir, 'ca.key') || path === host.crtOnAdmin || path === admin || new RegExp(`^${admin}/\\.${host.crtOnAdmin.split('/').pop()}\\.pgssl-\\d+-[0-9a-f]+\\.tmp$`).test(path);
      assert.deepEqual(underTests.filter((path) => !allowed(path)), [], 'ca sign opened nothing but the CSR, the CA folder and --out (and its temp file and folder)');
      assert.ok(underTests.includes(host.csrOnAdmin) && underTests.includes(join(caDir, 'ca.key')), `strace saw the files it must have read: ${underTests.join(', ')}`);
      assert.ok(!underTests.some((path) => path.startsWith(host.dir) || path.endsWith('server.key')), 'no file of the database host, and no server key');

      assert.deepEqual(Object.keys(report).sort(), [...commonJsonKeys, 'caCert', 'certificate', 'fingerprint', 'names', 'notAfter', 'subject'].sort());
      assert.equal(report.changed, true);
      assert.equal(report.certificate, host.crtOnAdmin);
      assert.equal(report.caCert, join(caDir, 'ca.crt'));
      assert.equal(statSync(host.crtOnAdmin).mode & 0o777, 0o644);
      const cert = new X509Certificate(readFileSync(host.crtOnAdmin));
      const ca = new X509Certificate(readFileSync(join(caDir, 'ca.crt')));
      assert.ok(cert.verify(ca.publicKey) && cert.checkIssued(ca));
      assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(join(host.requestDir, 'server.key')))), 'it certifies the key that stayed on the host');
      assert.equal(report.fingerprint, cert.fingerprint256.replace(/:/g, '').toLowerCase());
      assert.equal(report.notAfter, new Date(cert.validTo).toISOString());
      const request = await certRequest(host);
      assert.deepEqual(report.names, request.names, 'the names are the request\'s');
      assert.match(openssl('verify', '-CAfile', join(caDir, 'ca.crt'), '-purpose', 'sslserver', host.crtOnAdmin).toString(), /: OK/);
      // Back to the database host: the certificate and the CA's public certificate.
      copyFileSync(host.crtOnAdmin, join(host.dir, 'server.crt'));
      copyFileSync(join(caDir, 'ca.crt'), join(host.dir, 'ca.crt'));
    }
  });

  it('enable --cert-file --key-file --ca-file installs them; one CA file verifies both servers with verify-full', async () => {
    for (const host of hosts) {
      const r = await enable(host);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.report.changed, true);
    }
    for (const host of hosts) {
      for (const name of ['localhost', '127.0.0.1']) {
        const result = psql(`host=${name} port=${host.cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(caDir, 'ca.crt')}`, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        assert.equal(result.code, 0, `${name}:${host.cluster.port}: ${result.stderr}`);
        assert.equal(result.stdout, 't');
      }
    }
  });

  it('second runs change nothing: cert request, ca sign and enable say changed: false and every file is byte-identical', async () => {
    for (const host of hosts) {
      const files = [join(host.requestDir, 'server.key'), join(host.requestDir, 'server.csr')];
      const before = files.map(bytes);
      assert.equal((await certRequest(host)).changed, false);
      assert.deepEqual(files.map(bytes), before);

      const crt = bytes(host.crtOnAdmin);
      const sign = await caSign([host.csrOnAdmin, '--out', host.crtOnAdmin]);
      assert.equal(sign.code, 0, sign.stderr);
      assert.equal(parseJsonOutput(sign).changed, false);
      assert.equal(bytes(host.crtOnAdmin), crt);

      const server = await snapshot(host.cluster);
      const again = await enable(host);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.report.changed, false, 'the files in force are these bytes: nothing to do');
      assert.deepEqual(await snapshot(host.cluster), server);
    }
  });

  it('rotate --cert-file --key-file --ca-file with the pair in force: changed: false, nothing written or set', async () => {
    const host = hosts[1];
    const server = await snapshot(host.cluster);
    const r = await runPgssl(['rotate', '--yes', '--json', '--cert-file', join(host.dir, 'server.crt'), '--key-file', join(host.requestDir, 'server.key'), '--ca-file', join(host.dir, 'ca.crt')], { env: host.cluster.env({ PGSSL_STATE_DIR: host.state }), timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJsonOutput(r);
    assert.equal(report.changed, false, JSON.stringify(report.after));
    assert.deepEqual(await snapshot(host.cluster), server);
  });

  it('cert request: new names → a new CSR for the same key; --force → a new key too', async () => {
    const host = hosts[0];
    const keyPath = join(host.requestDir, 'server.key');
    const key = bytes(keyPath);
    const renamed = await certRequest(host, ['--san', 'db1.fleet.example']);
    assert.equal(renamed.changed, true);
    assert.ok(renamed.names.dns.includes('db1.fleet.example'));
    assert.equal(bytes(keyPath), key, 'the same key');
    assert.match(openssl('req', '-in', renamed.csr, '-noout', '-text').toString(), /DNS:db1\.fleet\.example/);
    // ca sign: the certificate no longer has the request's names, so it is issued again.
    copyFileSync(renamed.csr, host.csrOnAdmin);
    const sign = await caSign([host.csrOnAdmin, '--out', host.crtOnAdmin]);
    assert.equal(sign.code, 0, sign.stderr);
    assert.equal(parseJsonOutput(sign).changed, true);
    assert.ok(parseJsonOutput(sign).names.dns.includes('db1.fleet.example'));

    const forced = await certRequest(host, ['--san', 'db1.fleet.example', '--force']);
    assert.equal(forced.changed, true);
    assert.notEqual(bytes(keyPath), key, 'a new key');
  });

  it('cert request refuses a key of another type than asked, nothing written', async () => {
    const host = hosts[1];
    const before = treeSnapshot(host.requestDir);
    const r = await runPgssl(['cert', 'request', '--out-dir', host.requestDir, '--key-type', 'rsa'], { env: host.cluster.env({ PGSSL_STATE_DIR: host.state }), timeoutMs: 120_000 });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /server\.key is an ECDSA P-256 key, not the RSA 2048 key asked for; nothing was written\. Give --key-type\/--rsa-bits that match it to keep it, or --force for a new key\./);
    assert.deepEqual(treeSnapshot(host.requestDir), before);
  });
});

describe('ca sign refuses what it must not sign: the reason, exit 2, no --out', () => {
  const dir = tempDir('pgssl-fleet-bad');
  const ecKey = join(dir, 'ec.key');
  before(() => {
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ecKey);
  });
  const request = (name: string, args: string[], key = ecKey) => {
    const csr = join(dir, `${name}.csr`);
    openssl('req', '-new', '-key', key, '-subj', `/CN=${name}.example`, ...args, '-out', csr);
    return csr;
  };
  const cases: [string, () => string, RegExp][] = [
    [
      'a flipped byte (the signature no longer verifies)',
      () => {
        const pem = readFileSync(request('flipped', ['-addext', 'subjectAltName=DNS:flipped.example']), 'utf8');
        const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
        const at = der.indexOf('flipped.example');
        der[at] ^= 0x01; // 'f' → 'g': still DER, still a name, no longer what was signed
        const path = join(dir, 'flipped-edited.csr');
        writeFileSync(path, `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`);
        return path;
      },
      /its signature \(ecdsa-with-SHA256\) does not verify with its own public key: the file was altered or damaged after it was signed/,
    ],
    [
      'an Ed25519 key',
      () => {
        const key = join(dir, 'ed25519.key');
        openssl('genpkey', '-algorithm', 'ed25519', '-out', key);
        return request('ed25519', ['-addext', 'subjectAltName=DNS:ed.example'], key);
      },
      /its key cannot serve PostgreSQL clients — an Ed25519 certificate: psql and every libpq client that logs in with SCRAM over TLS fail with "could not find digest for NID UNDEF"/,
    ],
    ['no names', () => request('nonames', []), /it names no host \(no DNS name or IP address in a subjectAltName\)/],
    ['CA:TRUE requested', () => request('ca', ['-addext', 'subjectAltName=DNS:ca.example', '-addext', 'basicConstraints=critical,CA:TRUE']), /it asks to be a CA \(basicConstraints CA:TRUE\)/],
    ['a clientAuth-only EKU', () => request('client', ['-addext', 'subjectAltName=DNS:client.example', '-addext', 'extendedKeyUsage=clientAuth']), /it asks for extendedKeyUsage clientAuth, without serverAuth: it is not a server's request \(clientAuth: a client certificate, see pgssl client-cert\)/],
  ];
  for (const [what, make, message] of cases) {
    it(what, async () => {
      const csr = make();
      const out = join(dir, 'out.crt');
      const before = { ca: treeSnapshot(caDir), out: treeSnapshot(dir) };
      const r = await runPgssl(['ca', 'sign', csr, '--dir', caDir, '--out', out, '--json'], { env: adminEnv });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /[Nn]othing was written/);
      const report = parseJsonOutput(r); // --json: the one document says why, for the Ansible role
      assert.deepEqual([report.changed, report.exitCode, report.certificate], [false, 2, out]);
      assert.match(report.error.message, message);
      assert.equal(existsSync(out), false);
      assert.deepEqual({ ca: treeSnapshot(caDir), out: treeSnapshot(dir) }, before);
    });
  }
});

describe('ca sign: input it cannot use, nothing written', () => {
  const dir = tempDir('pgssl-fleet-input');
  const out = join(dir, 'out.crt');
  const refused = async (args: string[], message: RegExp, code = 2) => {
    const before = { ca: treeSnapshot(caDir), dir: treeSnapshot(dir) };
    const r = await runPgssl(['ca', 'sign', ...args], { env: adminEnv });
    assert.equal(r.code, code, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.equal(existsSync(out), false);
    assert.deepEqual({ ca: treeSnapshot(caDir), dir: treeSnapshot(dir) }, before);
  };
  it('a CSR that is not there, or not a CSR (a certificate)', async () => {
    await refused([join(dir, 'missing.csr'), '--dir', caDir, '--out', out], /cannot read the certificate request .*missing\.csr: no such file; nothing was written\./);
    await refused([join(caDir, 'ca.crt'), '--dir', caDir, '--out', out], /ca\.crt is not a certificate request: it holds a PEM "CERTIFICATE", not a "CERTIFICATE REQUEST"; nothing was written\. Give the server\.csr that pgssl cert request wrote/);
  });
  it('a folder without a CA', async () => {
    await refused([hosts[1].csrOnAdmin, '--dir', join(dir, 'no-ca'), '--out', out], /no pgssl CA in .*no-ca yet; nothing was written\. Create one with pgssl ca init --dir .*no-ca/);
  });
  it('--out that is a folder', async () => {
    await refused([hosts[1].csrOnAdmin, '--dir', caDir, '--out', dir], /--out .* is there but cannot be read \(EISDIR\); nothing was written\. Give --out a certificate file/);
  });
  it('--out in a folder that does not exist: exit 1, naming the file', async () => {
    const r = await runPgssl(['ca', 'sign', hosts[1].csrOnAdmin, '--dir', caDir, '--out', join(dir, 'missing', 'x.crt')], { env: adminEnv });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /could not write .*missing\/x\.crt: .*ENOENT.*\. Run as a user who may write there, or give another --out\./);
    assert.equal(existsSync(join(dir, 'missing')), false);
  });
});

describe('cert request: what it refuses, nothing written', () => {
  it('--out-dir that is a file', async () => {
    const host = hosts[1];
    const file = join(host.dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await runPgssl(['cert', 'request', '--out-dir', file], { env: host.cluster.env({ PGSSL_STATE_DIR: host.state }) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out-dir .*a-file is not a folder; nothing was written/);
    assert.equal(readFileSync(file, 'utf8'), 'x');
  });
  it('a role that cannot see data_directory: exit 1, no folder created', async () => {
    const host = hosts[1];
    await host.cluster.query('CREATE ROLE fleet_app LOGIN');
    const dir = join(host.dir, 'app-request');
    const r = await runPgssl(['cert', 'request', '--out-dir', dir, '-U', 'fleet_app', '--json'], { env: host.cluster.env({ PGSSL_STATE_DIR: host.state }) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /role "fleet_app" cannot see data_directory, so pgssl cannot tell whose key to write nor check that it runs on the server's host; nothing was written\. Connect as a superuser/);
    assert.deepEqual([parseJsonOutput(r).changed, parseJsonOutput(r).exitCode], [false, 1]);
    assert.equal(existsSync(dir), false);
  });
});

describe('a certificate from ca sign, read by the strict parsers', () => {
  for (const parser of [goParser(), pythonParser()]) {
    it(`${parser.name}: parses it, the chain verifies to ca.crt, and it verifies as localhost and 127.0.0.1`, { skip: parser.skip }, () => {
      const host = hosts[1];
      const [report] = parser.run([{ cert: host.crtOnAdmin, root: join(caDir, 'ca.crt'), usage: 'server', hosts: ['localhost', '127.0.0.1', 'other.example.com'] }]);
      assert.equal(report.parseError, null);
      assert.equal(report.chainError, null);
      assert.equal(report.isCA, false);
      assert.deepEqual(report.extKeyUsage, ['serverAuth']);
      assert.ok(report.dnsNames.includes('localhost') && report.ipAddresses.includes('127.0.0.1'));
      if (parser.name.startsWith('Go') || report.verifier) {
        assert.equal(report.hostErrors.localhost, null);
        assert.equal(report.hostErrors['127.0.0.1'], null);
        assert.notEqual(report.hostErrors['other.example.com'], null);
      }
    });
  }
});
