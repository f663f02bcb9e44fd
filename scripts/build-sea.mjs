#!/usr/bin/env node
// `npm run build:sea`: dist/pgssl-linux-x64, pgssl as one file that runs on a
// host with no Node and no npm (issue 12): Node 20's single executable
// application (https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html).
// Runs after `npm run build` (it bundles what tsc compiled into dist/src):
//  1. esbuild: the CLI and every command, with every dependency inlined, into
//     one CommonJS script (a SEA's require() loads only built-in modules);
//  2. node --experimental-sea-config: that script (and V8's code cache of it)
//     into a blob;
//  3. a copy of this node binary, with postject injecting the blob.
// bin/pgssl and the npm layout are untouched: this is a second build.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertSelfContained, selfContainedBuild } from './esbuild-shared.mjs';

const root = new URL('..', import.meta.url).pathname;
const work = join(root, 'dist', 'sea');
const output = join(root, 'dist', 'pgssl-linux-x64');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`build:sea makes a linux-x64 executable from the running node; this is ${process.platform}-${process.arch}`);
try {
  statSync(join(root, 'dist', 'src', 'cli.cjs'));
} catch {
  throw new Error('dist/src/cli.cjs is missing: run npm run build first (npm run build:sea does)');
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// The CLI finds its commands and its version through this global when it is
// set (src/cli.cts, `bundled`), instead of reading files beside itself.
const entry = `
globalThis[Symbol.for('pgssl.bundled')] = {
  version: ${JSON.stringify(version)},
  commands: () => require('./dist/src/commands/all.js'),
  certCommands: () => require('./dist/src/commands/certs.js'),
};
require('./dist/src/cli.cjs').main(process.argv);
`;

const script = join(work, 'pgssl.cjs');
const bundle = await build({ ...selfContainedBuild, absWorkingDir: root, stdin: { contents: entry, resolveDir: root, sourcefile: 'sea-entry.cjs', loader: 'js' }, outfile: script });
// A SEA's require() loads only built-in modules: nothing may be left to load from disk.
assertSelfContained(script, bundle.metafile);

const config = join(work, 'sea-config.json');
const blob = join(work, 'pgssl.blob');
writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2));
quietly(process.execPath, ['--experimental-sea-config', config], /^Wrote single executable preparation blob/);

rmSync(output, { force: true });
copyFileSync(process.execPath, output);
chmodSync(output, 0o755);
// The fuse is Node's documented sentinel; postject flips it so the binary looks for the blob.
// LIEF, inside postject, warns about every ELF note section it cannot name: harmless, and noise.
quietly(join(root, 'node_modules', '.bin', 'postject'), [output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], /Can't find string offset for section name|^Start injection|^Injection done|^💉/);
rmSync(work, { recursive: true, force: true });

/** Runs a build tool; shows what it said except its routine lines, and all of it when it fails. */
function quietly(command, args, routine) {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  // eslint-disable-next-line no-control-regex
  const lines = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter(Boolean);
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${run.status}):\n${lines.join('\n')}`);
  const said = lines.filter((line) => !routine.test(line));
  if (said.length > 0) console.error(said.join('\n'));
}

console.log(`${output}: ${(statSync(output).size / 1e6).toFixed(1)} MB, pgssl ${version}, node ${process.version}`);
