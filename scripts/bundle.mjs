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
import { createHash } from 'node:crypto';
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
  // The build's name, which its code cache must carry (src/bundleLoader.cts).
  const code = readFileSync(outfile, 'utf8');
  writeFileSync(outfile, `// pgssl-bundle ${createHash('sha256').update(code).digest('hex')}\n${code}`);
}
writeFileSync(join(root, 'dist', 'bundle', 'contents.json'), `${JSON.stringify(contents, null, 2)}\n`);

// In a process of its own, with its output kept unless it fails: it runs commands.
const training = spawnSync(process.execPath, [join(root, 'scripts', 'train-code-cache.cjs')], { cwd: root, encoding: 'utf8' });
if (training.status !== 0) throw new Error(`writing the code caches failed (exit ${training.status}):\n${training.stdout}${training.stderr}`);
