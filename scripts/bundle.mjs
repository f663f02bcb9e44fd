#!/usr/bin/env node
// Bundles what the CLI loads after parsing its arguments (src/commands/all.ts,
// as tsc compiled it into dist/src) into one file, dist/bundle/commands.js.
// Loading the enable command as ~70 separate ES modules costs ~35 ms more
// than as one file (bench/enable.ts); the code is the same, type-checked and
// compiled by tsc first. Packages stay external and load from node_modules.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/commands/all.js'],
  outfile: 'dist/bundle/commands.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
