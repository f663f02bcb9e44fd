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
// never loads; no import() is left, which code from the cache could not run. dist/bundle/contents.json lists the package files in each
// bundle (test/e2e/bundles.test.ts holds the certificate bundle to its list).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { inlineLazyRequires, lazyChildProcessInCommander } from './esbuild-plugins.mjs';

const root = new URL('..', import.meta.url).pathname;
const bundles = {
  'cli.cjs': 'dist/src/cli.cjs',
  'commands.cjs': 'dist/src/commands/all.js',
  'certs.cjs': 'dist/src/commands/certs.js',
};

const contents = {};
for (const [name, entry] of Object.entries(bundles)) {
  const outfile = join(root, 'dist', 'bundle', name);
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['pg-native'],
    // createRequire(import.meta.url) in the ES modules: the bundle's own location.
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__importMetaUrl' },
    plugins: [inlineLazyRequires, lazyChildProcessInCommander],
    metafile: true,
    logLevel: 'warning',
  });
  const outside = Object.values(result.metafile.outputs).flatMap((out) => out.imports).filter((i) => i.kind === 'dynamic-import' || (i.external && !(i.path.startsWith('node:') || builtinModules.includes(i.path) || i.path === 'pg-native')));
  if (outside.length > 0) throw new Error(`${name} would load from outside itself: ${outside.map((i) => `${i.kind} ${i.path}`).join(', ')}`);
  contents[name] = Object.keys(result.metafile.inputs)
    .filter((input) => input.includes('node_modules/'))
    .map((input) => input.slice(input.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .sort();
  const code = readFileSync(outfile, 'utf8');
  // What the metafile does not list: an import() of a computed name, a package's own createRequire.
  // (src/cluster/binaries.ts's createRequire only resolves the embedded PostgreSQL packages of a checkout: see inlineLazyRequires.)
  const sourceOf = (index) => /\n\/\/ (\S+)\n(?![\s\S]*\n\/\/ \S+\n)/.exec(code.slice(0, index))?.[1];
  const left = [...code.matchAll(/\bimport\(|createRequire\)?\((?!file\))/g)]
    .filter((match) => !(match[0].startsWith('createRequire') && sourceOf(match.index) === 'dist/src/cluster/binaries.js'))
    .map((match) => `${sourceOf(match.index)}: ${code.slice(Math.max(0, match.index - 60), match.index + 40).replace(/\s+/g, ' ')}`);
  if (left.length > 0) throw new Error(`${name} would load from outside itself at run time:\n  ${left.join('\n  ')}`);
}
writeFileSync(join(root, 'dist', 'bundle', 'contents.json'), `${JSON.stringify(contents, null, 2)}\n`);

// In a process of its own, with its output kept unless it fails: it runs commands.
// No PG* variable (a PGSERVICE of the DBA's would change what status does) and no
// NODE_OPTIONS (V8 flags there would make every cache one that no plain run takes).
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG') && key !== 'NODE_OPTIONS'));
const training = spawnSync(process.execPath, [join(root, 'scripts', 'train-code-cache.cjs')], { cwd: root, encoding: 'utf8', env, timeout: 120_000 });
if (training.status !== 0) throw new Error(`writing the code caches failed (exit ${training.status ?? training.signal}):\n${training.stdout}${training.stderr}`);
// And a plain process must take them.
const files = Object.keys(bundles).map((name) => join(root, 'dist', 'bundle', name));
const check = spawnSync(process.execPath, ['-e', `const l = require(${JSON.stringify(join(root, 'dist', 'src', 'bundleLoader.cjs'))}); const files = ${JSON.stringify(files)}; for (const f of files) l.loadBundle(f); console.log(JSON.stringify(files.filter((f) => !l.codeCacheUsed(f))));`], { cwd: root, encoding: 'utf8', env, timeout: 60_000 });
if (check.status !== 0 || check.stdout.trim() !== '[]') throw new Error(`a plain node process does not take the code caches of ${check.stdout.trim()} (exit ${check.status}):\n${check.stderr}`);
