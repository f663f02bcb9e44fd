#!/usr/bin/env node
// The files bin/pgssl runs (issue 9: start-up is mostly loading code), made
// from what tsc compiled into dist/src, so the code is the same, type-checked:
//  - dist/bundle/cli.cjs: the commander program (src/cli.cts) with commander;
//  - dist/bundle/commands.cjs: every command (src/commands/all.ts) with pg;
//  - dist/bundle/certs.cjs: the certificate commands that need no server
//    (src/commands/certs.ts), with node-forge's ASN.1 layer: a sixth the size.
// One file per job loads faster than the ~70 ES modules and ~40 package files
// behind it (no module resolution, no ESM loader), and each gets V8's code
// cache beside it, NAME.cjs.cache (src/bundleLoader.cts), so a command does
// not compile them again. Every package is inside (the wizard's prompts too,
// ESM made CommonJS by esbuild) but pg's optional native binding, which pgssl
// never loads (scripts/esbuild-shared.mjs). dist/bundle/contents.json lists
// the package files in each bundle (test/e2e/bundles.test.ts holds the
// certificate bundle to its list).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertSelfContained, selfContainedBuild } from './esbuild-shared.mjs';

const root = new URL('..', import.meta.url).pathname;
const bundles = {
  'cli.cjs': 'dist/src/cli.cjs',
  'commands.cjs': 'dist/src/commands/all.js',
  'certs.cjs': 'dist/src/commands/certs.js',
};

const contents = {};
for (const [name, entry] of Object.entries(bundles)) {
  const outfile = join(root, 'dist', 'bundle', name);
  const result = await build({ ...selfContainedBuild, absWorkingDir: root, entryPoints: [entry], outfile });
  assertSelfContained(outfile, result.metafile);
  contents[name] = Object.keys(result.metafile.inputs)
    .filter((input) => input.includes('node_modules/'))
    .map((input) => input.slice(input.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .sort();
}
writeFileSync(join(root, 'dist', 'bundle', 'contents.json'), `${JSON.stringify(contents, null, 2)}\n`);

// In processes of their own, with their output kept unless they fail: the training
// runs commands; the check loads the bundles as bin/pgssl does and must find every
// cache taken. No PG* variable (a PGSERVICE of the DBA's would change what status
// does) and no NODE_OPTIONS (V8 flags there would make every cache one that no plain run takes).
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG') && key !== 'NODE_OPTIONS'));
for (const mode of ['--train', '--check']) {
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'train-code-cache.cjs'), mode], { cwd: root, encoding: 'utf8', env, timeout: 120_000 });
  if (run.status !== 0) throw new Error(`the code caches (${mode}) failed (exit ${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`);
}
