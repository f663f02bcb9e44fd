/** The packed tarball installs into an empty folder and its `pgssl` runs. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { assertValidJsonDocument } from '../support/jsonSchema.js';
import { repoRoot } from '../support/pgbin.js';
import { tempDir } from '../support/tempDir.js';
import { parseBundleReport, writeBundleReporter } from '../support/bundleReport.js';

it('npm pack → npm install in an empty folder → pgssl --version', { timeout: 180_000 }, () => {
  const work = tempDir('pgssl-pack');
  try {
    // --ignore-scripts: the build already ran (npm test builds first); prepack would rebuild
    // dist/ under the tests running beside this one.
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const listing = execFileSync('tar', ['-tzf', join(work, tarball)], { encoding: 'utf8' });
    assert.match(listing, /package\/dist\/src\/cli\.cjs/);
    assert.match(listing, /package\/bin\/package\.json/, 'bin/ is CommonJS through its own package.json');
    assert.doesNotMatch(listing, /package\/dist\/test\//, 'tests are not shipped');
    assert.match(listing, /package\/dist\/bundle\/certs\.cjs/, 'the certificate commands\' bundle');
    assert.doesNotMatch(listing, /pgssl-linux-x64|package\/dist\/sea\//, 'the single executable is a separate download, not in the npm package');
    assert.match(listing, /package\/schemas\/common\.schema\.json/, 'the --json schemas are shipped');
    assert.match(listing, /package\/contrib\/systemd\/pgssl-rotate@\.timer/, 'the systemd units and the cron file are shipped');
    const app = join(work, 'app');
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}');
    // The shipped manifest runs nothing at install: no script npm counts as an install
    // script (npm 11 warns about each one not covered by the consumer's allowScripts).
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', join(work, tarball), 'package/package.json'], { encoding: 'utf8' }));
    for (const event of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(manifest.scripts?.[event], undefined, `no ${event} script in the tarball`);
    // --foreground-scripts: a script that did run would print its "> pgssl@0.1.0 …" banner here.
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', join(work, tarball)], { cwd: app, encoding: 'utf8' });
    assert.equal(install.status, 0, install.stderr);
    const output = install.stdout + install.stderr;
    assert.doesNotMatch(output, /install-scripts|allowScripts|prepare|npm warn/i, 'no warning about scripts');
    assert.doesNotMatch(output, /> pgssl@|tsc|esbuild/, 'no build at install');
    for (const file of ['dist/bundle/cli.cjs', 'dist/bundle/cli.cjs.cache', 'dist/bundle/commands.cjs', 'dist/bundle/commands.cjs.cache', 'dist/bundle/certs.cjs.cache', 'dist/src/bundleLoader.cjs']) {
      assert.ok(readFileSync(join(app, 'node_modules', 'pgssl', file)).equals(readFileSync(join(repoRoot, file))), `${file} installed as built here, not rebuilt`);
    }
    const version = execFileSync(join(app, 'node_modules', '.bin', 'pgssl'), ['--version'], { encoding: 'utf8' }).trim();
    // npm gives every installed file one time stamp: the caches are not older than their bundles, and V8 takes them.
    const cached = spawnSync(process.execPath, ['--require', writeBundleReporter(work), join(app, 'node_modules', 'pgssl', 'bin', 'pgssl'), 'status', '-h', '127.0.0.1', '-p', '1'], { encoding: 'utf8' });
    assert.deepEqual(parseBundleReport(cached.stderr).codeCacheUsed, { 'cli.cjs': true, 'commands.cjs': true }, cached.stderr);
    assert.equal(version, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    // A real command loads the ESM modules and pg from the installed package.
    const down = spawnSync(join(app, 'node_modules', '.bin', 'pgssl'), ['status', '-h', '127.0.0.1', '-p', '1'], { encoding: 'utf8' });
    assert.equal(down.status, 1);
    assert.match(down.stderr, /connection refused/);
    // --json from the installed package: its version comes from the installed package.json.
    const downJson = spawnSync(join(app, 'node_modules', '.bin', 'pgssl'), ['status', '-h', '127.0.0.1', '-p', '1', '--json'], { encoding: 'utf8' });
    assert.equal(downJson.status, 1);
    assert.deepEqual(assertedDocument(downJson.stdout), { pgssl: version, command: 'status', ok: false, exitCode: 1, errorId: 'OPERATIONAL' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

it('npm exec pgssl and npx pgssl work from the repository', () => {
  // With a cold npx cache, npx installs the repository itself; should that ever run a
  // build script, it would delete dist/ under the tests running beside this one.
  const env = { ...process.env, npm_config_ignore_scripts: 'true' };
  const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;
  for (const [command, args] of [
    ['npm', ['exec', '--offline', '--', 'pgssl', '--version']],
    ['npx', ['--offline', 'pgssl', '--version']],
  ] as const) {
    assert.equal(execFileSync(command, [...args], { cwd: repoRoot, encoding: 'utf8', env }).trim(), version, command);
  }
});

it('npm install --global of the tarball, scripts allowed: none of its scripts runs, and pgssl --version works', { timeout: 180_000 }, () => {
  const work = tempDir('pgssl-pack-global');
  try {
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    // The same package with every script (build, preprepare, prepack, …) replaced by one that
    // leaves a mark: npm picks what to run at install by name, so a mark means that one ran.
    const unpacked = join(work, 'unpacked');
    const marks = join(work, 'marks');
    mkdirSync(unpacked);
    mkdirSync(marks);
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', unpacked]);
    const manifestPath = join(unpacked, 'package', 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const names = Object.keys(manifest.scripts ?? {});
    assert.ok(names.includes('prepack') && names.includes('preprepare'), `the scripts are the repository's: ${names.join(', ')}`);
    manifest.scripts = Object.fromEntries(names.map((name) => [name, `touch '${join(marks, name)}'`]));
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    const marked = join(work, 'marked.tgz');
    execFileSync('tar', ['-czf', marked, '-C', unpacked, 'package']);

    const prefix = join(work, 'prefix');
    const env = { ...process.env, npm_config_ignore_scripts: 'false' };
    const install = spawnSync('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts=false', '--foreground-scripts', '--no-audit', '--no-fund', '--prefer-offline', marked], { cwd: work, encoding: 'utf8', env });
    assert.equal(install.status, 0, install.stderr);
    assert.deepEqual(readdirSync(marks), [], 'no script of the package ran at install');
    const version = execFileSync(join(prefix, 'bin', 'pgssl'), ['--version'], { encoding: 'utf8' }).trim();
    assert.equal(version, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    // Control: the marks do show a script that runs.
    execFileSync('npm', ['run', 'prepack'], { cwd: join(prefix, 'lib', 'node_modules', 'pgssl'), stdio: 'ignore', env });
    assert.deepEqual(readdirSync(marks), ['prepack']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** The fields this test cares about, from a --json document validated against its schema. */
function assertedDocument(stdout: string) {
  const document = JSON.parse(stdout);
  assertValidJsonDocument(document, 'the installed pgssl');
  return { pgssl: document.pgssl, command: document.command, ok: document.ok, exitCode: document.exitCode, errorId: document.error?.id };
}
