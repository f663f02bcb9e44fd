/**
 * pgssl rotate --ca on real servers, checked with real clients (psql
 * verify-full with sslrootcert, cert authentication, openssl s_client):
 * phase 1 → the old CA file and the bundle both verify, a session opened
 * before still answers, a client certificate from the old CA logs in; a
 * second phase 1 changes nothing; --finish → the bundle verifies, the old CA
 * file alone fails, the served certificate changed, the old client
 * certificate is refused; rollback of each phase; refusals and dry runs
 * change nothing; a kill -9 in the proof followed by rollback leaves a server
 * the old CA file verifies.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { parseJsonOutput, runPgssl } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { servedFingerprint, verifyFull } from '../support/served.js';
import { snapshot } from '../support/snapshot.js';
import { tempDir } from '../support/tempDir.js';
import { installOpensslCert, turnSslOn } from '../support/tlsSetup.js';

// alice logs in with a client certificate (cert auth); everyone else as before.
const hba = `local   all          all                      trust
hostssl all          alice      127.0.0.1/32  cert
host    all          all        127.0.0.1/32  trust
host    all          all        0.0.0.0/0     trust
`;

const clusters: Cluster[] = [];
after(() => clusters.forEach((c) => c.stop()));

async function enabled() {
  const cluster = await startCluster({ hba });
  clusters.push(cluster);
  const work = tempDir('pgssl-rotate-ca');
  const state = join(work, 'pgssl');
  const pgssl = (args: string[], extra: Record<string, string> = {}) => runPgssl(args, { env: cluster.env({ PGSSL_STATE_DIR: state, ...extra }), timeoutMs: 180_000 });
  const on = await pgssl(['enable', '--yes']);
  assert.equal(on.code, 0, on.stderr);
  await cluster.query('CREATE ROLE alice LOGIN');
  // What clients were given at enable: the old CA alone.
  const oldCaFile = join(work, 'old-ca.crt');
  copyFileSync(join(state, 'ca.crt'), oldCaFile);
  const client = await pgssl(['client-cert', 'alice', '--out-dir', work]);
  assert.equal(client.code, 0, client.stderr);
  const alice = (caFile: string) => verifyFull(cluster, caFile, `user=alice sslcert=${join(work, 'alice.crt')} sslkey=${join(work, 'alice.key')}`);
  return { cluster, state, work, pgssl, oldCaFile, bundle: join(state, 'ca.crt'), alice };
}

function steps(report: { steps: { id: string; status: string }[] }): string[] {
  return report.steps.map((s) => `${s.id}:${s.status}`);
}

async function sslCaFile(cluster: Cluster): Promise<string> {
  const [row] = await cluster.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'ssl_ca_file'");
  return row.setting.startsWith('/') ? row.setting : join(cluster.dataDir, row.setting);
}

const certificates = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;

describe('rotate --ca', () => {
  it('phase 1, again, --finish, and rollback of each phase, proven with psql verify-full and cert auth', { timeout: 900_000 }, async () => {
    const { cluster, state, pgssl, oldCaFile, bundle, alice } = await enabled();
    const servedAtEnable = servedFingerprint(cluster);
    assert.equal(alice(oldCaFile).code, 0, `before: alice logs in with her certificate: ${alice(oldCaFile).stderr}`);
    const afterEnable = await snap(cluster, state);
    const session = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', ssl: { ca: readFileSync(oldCaFile, 'utf8'), servername: 'localhost' } });
    await session.connect();
    try {
      // Phase 1.
      const begin = await pgssl(['rotate', '--ca', '--yes', '--json']);
      assert.equal(begin.code, 0, begin.stderr);
      const begun = parseJsonOutput(begin);
      assert.equal(begun.changed, true);
      assert.deepEqual(steps(begun), ['preflight:done', 'certificates:done', 'install-files:done', 'swap:done', 'publish:done', 'report:done']);
      assert.equal(begun.caRotation.phase, 'begin');
      assert.equal(servedFingerprint(cluster), servedAtEnable, 'the server keeps serving its certificate from the old CA');
      assert.equal(certificates(readFileSync(bundle, 'utf8')), 2, 'the client ca.crt is the bundle old + new');
      assert.equal(readFileSync(bundle, 'utf8').indexOf(readFileSync(oldCaFile, 'utf8').trim()), 0, 'old CA first');
      assert.ok(existsSync(begun.caRotation.newCa.certPath) && existsSync(begun.caRotation.newCa.keyPath), 'the new CA is written beside the old one');
      assert.equal(readFileSync(join(state, 'ca.key')).toString('base64'), afterEnable.files[join(state, 'ca.key')]!.content, 'the old CA key stays');
      assert.equal(certificates(readFileSync(await sslCaFile(cluster), 'utf8')), 2, 'ssl_ca_file in force holds both CAs');
      for (const ca of [oldCaFile, bundle]) {
        const r = verifyFull(cluster, ca);
        assert.equal(r.code, 0, `overlap: verify-full with ${ca}: ${r.stderr}`);
        assert.equal(r.stdout, 't');
      }
      const oldCert = alice(bundle);
      assert.equal(oldCert.code, 0, `overlap: a client certificate from the old CA still logs in with cert auth: ${oldCert.stderr}`);
      assert.equal((await session.query('SELECT 42 AS answer')).rows[0].answer, 42, 'a session opened before still answers');
      assert.deepEqual(begun.caRotation.proof.clientCertificates.map((c: { ca: string; accepted: boolean }) => `${c.ca}:${c.accepted}`), ['the old CA:true', 'the new CA:true']);

      // A second phase 1 during the overlap: nothing.
      const overlap = await snap(cluster, state);
      const again = await pgssl(['rotate', '--ca', '--yes', '--json']);
      assert.equal(again.code, 0, again.stderr);
      const second = parseJsonOutput(again);
      assert.equal(second.changed, false);
      assert.equal(second.caRotation.phase, 'in-overlap');
      assert.equal(second.caRotation.began, begun.caRotation.began);
      assert.match(again.stderr, /a CA rotation is already in progress: the overlap began on \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      assert.deepEqual(await snap(cluster, state), overlap, 'a second rotate --ca changes nothing');

      // status knows.
      const status = parseJsonOutput(await pgssl(['status', '--json']));
      assert.ok(status.findings.some((f: { id: string }) => f.id === 'CA_ROTATION_IN_PROGRESS'), 'status reports the overlap');

      // Phase 2.
      const finish = await pgssl(['rotate', '--ca', '--finish', '--yes', '--json']);
      assert.equal(finish.code, 0, finish.stderr);
      const finished = parseJsonOutput(finish);
      assert.equal(finished.changed, true);
      assert.deepEqual(steps(finished), ['preflight:done', 'certificates:done', 'install-files:done', 'swap:done', 'publish:done', 'report:done']);
      assert.match(finished.caRotation.warnings[0], /client certificates signed by the old CA .* will be refused after --finish.*pgssl cannot know which ones were issued/);
      const servedAfterFinish = servedFingerprint(cluster);
      assert.notEqual(servedAfterFinish, servedAtEnable, 'the served certificate changed');
      assert.equal(servedAfterFinish, finished.after.fingerprint);
      const viaBundle = verifyFull(cluster, overlapBundleCopy(state, overlap));
      assert.equal(viaBundle.code, 0, `finish: verify-full with the bundle clients got in phase 1: ${viaBundle.stderr}`);
      const viaNew = verifyFull(cluster, bundle);
      assert.equal(viaNew.code, 0, `finish: verify-full with the published ca.crt (new CA alone): ${viaNew.stderr}`);
      assert.equal(certificates(readFileSync(bundle, 'utf8')), 1, 'the client ca.crt holds only the new CA');
      const viaOld = verifyFull(cluster, oldCaFile);
      assert.notEqual(viaOld.code, 0, 'finish: the old CA file alone fails');
      assert.match(viaOld.stderr, /certificate verify failed/);
      assert.equal(certificates(readFileSync(await sslCaFile(cluster), 'utf8')), 1, 'ssl_ca_file in force holds only the new CA');
      const refused = alice(bundle);
      assert.notEqual(refused.code, 0, 'a client certificate from the old CA is refused after finish');
      assert.ok(existsSync(join(state, readdirSync(state).find((n) => /^ca-before-.*\.key$/.test(n))!)), 'the old CA key is kept on disk');
      assert.equal((await session.query('SELECT 43 AS answer')).rows[0].answer, 43, 'the old session still answers');
      const again2 = await pgssl(['rotate', '--ca', '--finish', '--yes']);
      assert.equal(again2.code, 2, 'a second --finish: nothing to finish');
      assert.match(again2.stderr, /there is no CA rotation in progress to finish \(the last one finished on/);

      // Rollback of finish: back to the overlap.
      const back = await pgssl(['rollback', '--non-interactive']);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(servedFingerprint(cluster), servedAtEnable, 'rollback of --finish: the certificate from the old CA again');
      for (const ca of [oldCaFile, bundle]) assert.equal(verifyFull(cluster, ca).code, 0, `back in the overlap: verify-full with ${ca}`);
      assert.equal(alice(oldCaFile).code, 0, 'back in the overlap: the old client certificate logs in');
      const afterBack = await snap(cluster, state);
      assert.deepEqual((afterBack), (overlap), 'files and settings as in the overlap');

      // Rollback of phase 1: the old CA alone.
      const back1 = await pgssl(['rollback', '--non-interactive']);
      assert.equal(back1.code, 0, back1.stderr);
      assert.equal(verifyFull(cluster, oldCaFile).code, 0, 'rollback of phase 1: verify-full with the old CA file');
      assert.equal(readFileSync(bundle, 'utf8'), readFileSync(oldCaFile, 'utf8'), 'ca.crt is the old CA alone again');
      assert.deepEqual((await snap(cluster, state)), (afterEnable), 'files and settings as after enable');
      assert.equal(alice(oldCaFile).code, 0);
    } finally {
      await session.end();
    }
  });

  it('refusals and dry runs of each phase: a message, nothing changed; a proof that fails is undone (exit 3)', { timeout: 900_000 }, async (t) => {
    const { cluster, state, pgssl, oldCaFile } = await enabled();
    const before = await snap(cluster, state);
    const finish = await pgssl(['rotate', '--ca', '--finish', '--yes', '--json']);
    assert.equal(finish.code, 2, finish.stderr);
    assert.match(finish.stderr, /there is no CA rotation in progress to finish \(no .*ca-rotation\.json\); nothing was changed\. pgssl rotate --ca begins one/);
    assert.equal(parseJsonOutput(finish).error.id, 'BAD_INPUT');
    assert.deepEqual(await snap(cluster, state), before);

    const dry = await pgssl(['rotate', '--ca', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = parseJsonOutput(dry);
    assert.equal(plan.changed, false);
    assert.match(plan.settings[0].sql, /^ALTER SYSTEM SET ssl_ca_file = 'root-\d{8}T\d{6}Z\.crt'$/);
    assert.deepEqual(await snap(cluster, state), before, 'dry run of phase 1: nothing changed');
    const rsa = parseJsonOutput(await pgssl(['rotate', '--ca', '--dry-run', '--json', '--key-type', 'rsa', '--rsa-bits', '3072']));
    assert.deepEqual(rsa.caRotation.newCa.key, { type: 'rsa', bits: 3072 }, '--key-type picks the new CA key');
    assert.deepEqual(plan.caRotation.newCa.key, { type: 'ecdsa', curve: 'prime256v1' }, 'by default the type of the old CA key');
    assert.deepEqual(await snap(cluster, state), before);

    if (process.getuid?.() === 0) {
      // The server cannot read a bundle in a folder only root may enter: it keeps its old TLS context, so the
      // ssl_ca_file in force refuses a client certificate from the new CA; the proof sees it and undoes the run.
      const certDir = tempDir('pgssl-rotate-ca-private');
      chmodSync(certDir, 0o700);
      const failed = await pgssl(['rotate', '--ca', '--yes', '--json', '--cert-dir', certDir]);
      assert.equal(failed.code, 3, failed.stderr);
      assert.match(failed.stderr, /a client certificate from the new CA is refused \([^)\n]*unknown ca\) by the ssl_ca_file in force; it should be accepted.*Every change was undone; the server is as it was\./);
      const report = parseJsonOutput(failed);
      assert.equal(report.error.id, 'VERIFICATION_FAILED');
      assert.equal(report.changed, false);
      assert.deepEqual(readdirSync(certDir), [], 'the bundle is removed again');
      assert.deepEqual(await snap(cluster, state), before, 'a failed proof: everything undone');
      assert.equal(verifyFull(cluster, oldCaFile).code, 0);
    } else t.diagnostic('the failed-proof case needs root (a folder the server user cannot read)');

    assert.equal((await pgssl(['rotate', '--ca', '--yes'])).code, 0);
    const overlap = await snap(cluster, state);
    const dryFinish = await pgssl(['rotate', '--ca', '--finish', '--dry-run', '--json']);
    assert.equal(dryFinish.code, 0, dryFinish.stderr);
    const finishPlan = parseJsonOutput(dryFinish);
    assert.deepEqual(finishPlan.settings.map((s: { name: string }) => s.name), ['ssl_cert_file', 'ssl_key_file', 'ssl_ca_file']);
    assert.match(finishPlan.caRotation.warnings[0], /will be refused after --finish/);
    assert.deepEqual(await snap(cluster, state), overlap, 'dry run of --finish: nothing changed');

    // ca.crt/ca.key changed since phase 1: --finish refuses.
    const caCrt = join(state, 'ca.crt');
    const bundleBytes = readFileSync(caCrt);
    writeFileSync(caCrt, readFileSync(finishPlan.caRotation.newCa.certPath));
    const changed = await snap(cluster, state);
    const refused = await pgssl(['rotate', '--ca', '--finish', '--yes']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /ca\.crt and .*ca\.key are no longer the old CA that rotate --ca left there on .*; nothing was changed\. Put them back/);
    assert.deepEqual(await snap(cluster, state), changed);
    writeFileSync(caCrt, bundleBytes);

    // A record pgssl cannot read: every --ca run stops before any change.
    const recordFile = join(state, 'ca-rotation.json');
    const recordBytes = readFileSync(recordFile);
    writeFileSync(recordFile, '{"version": 1');
    const garbled = await snap(cluster, state);
    const unreadable = await pgssl(['rotate', '--ca', '--yes']);
    assert.equal(unreadable.code, 1, unreadable.stderr);
    assert.match(unreadable.stderr, /cannot read the CA rotation record .*ca-rotation\.json: .*Nothing was changed/);
    assert.deepEqual(await snap(cluster, state), garbled);
    writeFileSync(recordFile, recordBytes);
    assert.deepEqual(await snap(cluster, state), overlap);
  });

  it("a served certificate pgssl's CA did not issue: exit 2, nothing changed", { timeout: 300_000 }, async () => {
    const cluster = await startCluster({ hba });
    clusters.push(cluster);
    const state = join(tempDir('pgssl-rotate-ca-foreign'), 'pgssl');
    const pgssl = (args: string[]) => runPgssl(args, { env: cluster.env({ PGSSL_STATE_DIR: state }), timeoutMs: 180_000 });
    await turnSslOn(cluster, installOpensslCert(cluster));
    const none = await pgssl(['rotate', '--ca', '--yes']);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /pgssl rotate --ca rotates pgssl's own CA, and it is not usable: there is no CA in .* \(no ca\.crt\)\. Nothing was changed\./);
    assert.equal((await pgssl(['ca', 'init'])).code, 0);
    const before = await snap(cluster, state);
    const r = await pgssl(['rotate', '--ca', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /was not issued by pgssl's CA .*ca\.crt, so rotating that CA would not change what clients verify; nothing was changed\. pgssl rotate \(without --ca\)/);
    assert.deepEqual(await snap(cluster, state), before);
  });

  it('refused before connecting: --finish without --ca, --ca with --ca-cert', async () => {
    const env = { ...process.env, PGHOST: '/nonexistent' };
    const alone = await runPgssl(['rotate', '--finish', '--yes'], { env });
    assert.equal(alone.code, 2, alone.stderr);
    assert.match(alone.stderr, /--finish without --ca: it is the second phase of a CA rotation/);
    const external = await runPgssl(['rotate', '--ca', '--ca-cert', 'x.crt', '--ca-key', 'x.key'], { env });
    assert.equal(external.code, 2, external.stderr);
    assert.match(external.stderr, /--ca with --ca-cert, --ca-key: --ca rotates pgssl's own CA/);
  });

  it('kill -9 in the proof of each phase, then rollback: the server verifies with the old CA file', { timeout: 900_000 }, async () => {
    const { cluster, state, pgssl, oldCaFile } = await enabled();
    const afterEnable = await snap(cluster, state);
    // Phase 1's journal writes: 4 files, the setting, (reload and proof), ca.crt… Killed right after the proof held, before publishing.
    const killed = await pgssl(['rotate', '--ca', '--yes'], { PGSSL_TEST_AFTER_JOURNAL_WRITE: '6:SIGKILL' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const back = await pgssl(['rollback', '--non-interactive']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(verifyFull(cluster, oldCaFile).code, 0, 'phase 1 killed and rolled back: verify-full with the old CA file');
    assert.deepEqual((await snap(cluster, state)), afterEnable);

    assert.equal((await pgssl(['rotate', '--ca', '--yes'])).code, 0);
    // --finish's: 3 files, 3 settings, (reload and proofs), the old key's copy… Killed right after the proofs held.
    const killedFinish = await pgssl(['rotate', '--ca', '--finish', '--yes'], { PGSSL_TEST_AFTER_JOURNAL_WRITE: '7:SIGKILL' });
    assert.equal(killedFinish.signal, 'SIGKILL', killedFinish.stderr);
    const backFinish = await pgssl(['rollback', '--non-interactive']);
    assert.equal(backFinish.code, 0, backFinish.stderr);
    const r = verifyFull(cluster, oldCaFile);
    assert.equal(r.code, 0, `finish killed and rolled back: verify-full with the old CA file: ${r.stderr}`);
  });
});

/** The bundle clients got in phase 1, from the snapshot taken in the overlap, as a file psql can read. */
function overlapBundleCopy(state: string, overlap: Snapshot): string {
  const copy = join(tempDir('pgssl-bundle'), 'bundle.crt');
  writeFileSync(copy, Buffer.from(overlap.files[join(state, 'ca.crt')]!.content!, 'base64'));
  return copy;
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/**
 * The server's files and settings plus every file in the state folder (its
 * runs/ folder of journals aside). postgresql.auto.conf as its sorted lines:
 * ALTER SYSTEM SET removes a setting's line and appends a new one (PostgreSQL
 * 13+, replace_auto_config_value), so an undo gives back every value but not
 * the order of the lines.
 */
async function snap(cluster: Cluster, state: string): Promise<Snapshot> {
  const taken = await snapshot(cluster, [], existsSync(state) ? readdirSync(state).filter((n) => n !== 'runs').map((n) => join(state, n)) : []);
  const autoConf = taken.files[join(cluster.dataDir, 'postgresql.auto.conf')];
  if (autoConf?.content) autoConf.content = Buffer.from(autoConf.content, 'base64').toString().split('\n').sort().join('\n');
  return taken;
}
