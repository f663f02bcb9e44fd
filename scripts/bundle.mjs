#!/usr/bin/env node
// Bundles what the CLI loads after parsing its arguments (src/commands/all.ts,
// as tsc compiled it into dist/src) into one CommonJS file,
// dist/bundle/commands.cjs. Loading the enable command as ~70 separate ES
// modules costs ~35 ms more than as one file (bench/enable.ts), and the CLI
// (CommonJS, src/cli.cts) then require()s it instead of starting Node's ESM
// loader: another ~40 ms off every command (bench/startup.ts, bench/certs.ts).
// The certificate commands that need no server (src/commands/certs.ts) get a
// bundle of their own, dist/bundle/certs.cjs: parsing all of commands.cjs
// was ~45 ms of client-cert's ~250 (bench/certs.ts).
// The code is the same, type-checked and compiled by tsc first. Packages load
// from node_modules, except chalk: ESM-only, so require() cannot load it on
// Node 20, and it is small enough to bundle. @inquirer/prompts (ESM-only too)
// is only ever import()ed, which works from CommonJS.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

for (const [entry, outfile] of [
  ['dist/src/commands/all.js', 'dist/bundle/commands.cjs'],
  ['dist/src/commands/certs.js', 'dist/bundle/certs.cjs'],
]) {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['pg', 'node-forge', 'node-forge/*', '@inquirer/prompts', 'commander'],
    // createRequire(import.meta.url) in the ES modules: the bundle's own location.
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__importMetaUrl' },
    logLevel: 'warning',
  });
}
