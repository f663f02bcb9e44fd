/**
 * What a command loads (src/cli.cts, src/bundleLoader.cts, scripts/bundle.mjs):
 * bin/pgssl runs dist/bundle/cli.cjs; the certificate commands that need no
 * server run from certs.cjs alone, without commands.cjs (issue 9: loading
 * code was most of client-cert's start-up); every package is inside the
 * bundles, so no file of node_modules is read; each bundle is compiled from
 * V8's code cache the build wrote, and without a usable cache it still runs.
 * Errors of the certificate commands are still reported as pgssl's own (exit
 * 2, the message), not as "unexpected error", since the option check, the
 * command and the report come from the same bundle.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pgsslBin } from '../support/cli.js';
import { cleanEnv } from '../support/cluster.js';
import { repoRoot } from '../support/pgbin.js';
import { tempDir } from '../support/tempDir.js';
import { parseBundleReport, writeBundleReporter } from '../support/bundleReport.js';

const work = tempDir('pgssl-bundles');
const reporter = writeBundleReporter(work);

function run(args: string[], env: Record<string, string> = {}, bin = pgsslBin) {
  const result = spawnSync(process.execPath, ['--require', reporter, bin, ...args], { env: cleanEnv({ HOME: work, PGSSL_STATE_DIR: join(work, 'state'), ...env }), encoding: 'utf8', timeout: 60_000 });
  return { ...result, ...parseBundleReport(result.stderr) };
}

describe('the bundles', () => {
  it('ca init, client-cert and cert inspect: cli.cjs and certs.cjs, both from their code cache, no file of node_modules', () => {
    const ca = join(work, 'ca');
    // cert inspect exits 3 here: a client certificate is a problem as a server certificate.
    for (const [args, status] of [[['ca', 'init', '--dir', ca], 0], [['client-cert', 'alice', '--dir', ca, '--out-dir', work], 0], [['cert', 'inspect', join(work, 'alice.crt')], 3]] as const) {
      const r = run([...args]);
      assert.equal(r.status, status, `pgssl ${args.join(' ')}: ${r.stderr}`);
      assert.deepEqual(r.bundles.sort(), ['certs.cjs', 'cli.cjs'], `pgssl ${args.join(' ')}`);
      assert.deepEqual(r.files.filter((file) => file.includes('/node_modules/')), [], `pgssl ${args.join(' ')} reads no package file`);
      assert.deepEqual(r.codeCacheUsed, { 'cli.cjs': true, 'certs.cjs': true }, `pgssl ${args.join(' ')}: V8 took both caches`);
      if (args[0] === 'cert') assert.match(r.stdout, /CN=alice/);
    }
  });
  it('what each bundle holds (dist/bundle/contents.json): the certificate bundle has no pg, no prompts, and of node-forge its ASN.1 layer only', () => {
    const contents = JSON.parse(readFileSync(join(repoRoot, 'dist', 'bundle', 'contents.json'), 'utf8')) as Record<string, string[]>;
    assert.deepEqual(Object.keys(contents).sort(), ['certs.cjs', 'cli.cjs', 'commands.cjs']);
    assert.ok(contents['cli.cjs'].every((file) => file.startsWith('commander/')), `cli.cjs: ${contents['cli.cjs'].join(', ')}`);
    assert.deepEqual(contents['certs.cjs'].filter((file) => /^(pg|pg-[a-z]+|@inquirer\/.*)\//.test(file)), []);
    assert.deepEqual(contents['certs.cjs'].filter((file) => file.startsWith('node-forge/') && !/^node-forge\/lib\/(asn1|util|oids|forge|baseN)\.js$/.test(file)), []);
    assert.ok(contents['commands.cjs'].some((file) => file.startsWith('pg/lib/')), 'commands.cjs holds pg');
    assert.ok(contents['commands.cjs'].some((file) => file.startsWith('@inquirer/')), 'commands.cjs holds the wizard\'s prompts');
  });
  it('a command that talks to a server loads commands.cjs (and not certs.cjs)', () => {
    const r = run(['status', '-h', '127.0.0.1', '-p', '1']);
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(r.bundles.sort(), ['cli.cjs', 'commands.cjs']);
    assert.equal(r.codeCacheUsed['commands.cjs'], true);
  });
  it('a cache made from another bundle (even one of the same length), by another Node, or none, or PGSSL_NO_CODE_CACHE: compiled from the source, same result', () => {
    // A copy of the layout whose caches cannot be used.
    const copy = join(work, 'copy');
    mkdirSync(join(copy, 'bin'), { recursive: true });
    mkdirSync(join(copy, 'dist', 'bundle'), { recursive: true });
    mkdirSync(join(copy, 'dist', 'src'), { recursive: true });
    for (const file of ['bin/pgssl', 'bin/package.json', 'package.json', 'dist/src/bundleLoader.cjs', 'dist/bundle/cli.cjs', 'dist/bundle/certs.cjs', 'dist/bundle/cli.cjs.cache', 'dist/bundle/certs.cjs.cache']) copyFileSync(join(repoRoot, file), join(copy, file));
    const bundle = (name: string) => join(copy, 'dist', 'bundle', name);
    const header = (data: Buffer) => data.toString('latin1', 0, data.indexOf(10));
    const cliCache = readFileSync(bundle('cli.cjs.cache'));
    assert.match(header(cliCache), new RegExp(`^pgssl-code-cache 2 node-${process.version.replace(/\./g, '\\.')} ${process.arch} ${readFileSync(bundle('cli.cjs')).length} \\d+$`));
    const client = (name: string, env: Record<string, string> = {}) => {
      const r = run(['client-cert', name, '--dir', join(work, 'ca'), '--out-dir', work], env, join(copy, 'bin', 'pgssl'));
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(join(work, `${name}.crt`)) && existsSync(join(work, `${name}.pk8`)));
      return r;
    };
    // Control: the copied caches work.
    assert.deepEqual(client('bob').codeCacheUsed, { 'cli.cjs': true, 'certs.cjs': true });
    // cli.cjs edited as a sed would, keeping its length (all V8 checks); certs.cjs's cache made by another Node.
    const source = readFileSync(bundle('cli.cjs'), 'utf8');
    assert.ok(source.includes('"show help"'));
    writeFileSync(bundle('cli.cjs'), source.replace('"show help"', '"SHOW HELP"'));
    const certsCache = readFileSync(bundle('certs.cjs.cache'));
    writeFileSync(bundle('certs.cjs.cache'), Buffer.concat([Buffer.from(header(certsCache).replace(`node-${process.version}`, 'node-v20.0.0'), 'latin1'), certsCache.subarray(certsCache.indexOf(10))]));
    const edited = client('carol');
    assert.deepEqual(edited.codeCacheUsed, { 'cli.cjs': false, 'certs.cjs': false });
    assert.match(spawnSync(process.execPath, [join(copy, 'bin', 'pgssl'), 'client-cert', '--help'], { encoding: 'utf8' }).stdout, /--help +SHOW HELP/, 'the edited source runs, not the cached code');
    // No cache at all.
    rmSync(bundle('cli.cjs.cache'));
    rmSync(bundle('certs.cjs.cache'));
    assert.deepEqual(client('dora').codeCacheUsed, { 'cli.cjs': false, 'certs.cjs': false });
    // In the repository's own layout, whose caches are good: PGSSL_NO_CODE_CACHE=1 refuses them.
    const refused = run(['client-cert', 'emil', '--dir', join(work, 'ca'), '--out-dir', work], { PGSSL_NO_CODE_CACHE: '1' });
    assert.equal(refused.status, 0, refused.stderr);
    assert.deepEqual(refused.codeCacheUsed, { 'cli.cjs': false, 'certs.cjs': false });
  });
  it('their errors are reported as pgssl errors: exit 2 and the message, nothing written', () => {
    const r = run(['client-cert', 'fred', '--dir', join(work, 'no-ca'), '--out-dir', work]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^pgssl: no pgssl CA in .*no-ca yet; nothing was written\. Create one with pgssl ca init/m);
    assert.doesNotMatch(r.stderr, /unexpected error/);
    assert.deepEqual(r.bundles.sort(), ['certs.cjs', 'cli.cjs']);
    assert.ok(!existsSync(join(work, 'fred.key')) && !existsSync(join(work, 'fred.crt')));
  });
  it('a bad flag value of a certificate command: the option check from the same bundle, exit 2', () => {
    const r = run(['client-cert', 'gina', '--days', '0', '--out-dir', work]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--days 0: expected a whole number of days/);
    assert.deepEqual(r.bundles.sort(), ['certs.cjs', 'cli.cjs']);
  });
});
