// What the npm bundles (scripts/bundle.mjs) and the single executable
// (scripts/build-sea.mjs) are built with, and the check both must pass.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';

/**
 * The ES modules load CommonJS packages lazily with createRequire(import.meta.url)
 * (src/server/connect.ts: pg; src/certs/der.ts: node-forge's asn1): esbuild
 * cannot follow that call, so it becomes a plain require() it bundles, still
 * run only when the code gets there. Any other createRequire call would load
 * from disk at run time: the build stops instead.
 */
export const inlineLazyRequires = {
  name: 'inline-lazy-requires',
  setup(builder) {
    builder.onLoad({ filter: /[/\\]dist[/\\]src[/\\].*\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const contents = source.replace(/createRequire\(import\.meta\.url\)\((['"][^'"]+['"])\)/g, 'require($1)');
      const left = /createRequire\(import\.meta\.url\)\(/.exec(contents);
      // cluster/binaries.ts resolves the embedded PostgreSQL packages of a checkout: absent in a bundle, and it says so.
      if (left && !/require\.resolve\(/.test(contents)) throw new Error(`${args.path}: createRequire(import.meta.url)(…) with a computed name cannot be bundled`);
      return { contents, loader: 'js' };
    });
  },
};

/**
 * commander requires node:child_process at load, only to run executable
 * subcommands (`pgssl-foo` files), which pgssl has none of: ~3 ms of every
 * start (bench/startup.ts). Here it is required when spawn is first called.
 * A commander whose source reads otherwise stops the build.
 */
export const lazyChildProcessInCommander = {
  name: 'lazy-child-process-in-commander',
  setup(builder) {
    builder.onLoad({ filter: /[/\\]node_modules[/\\]commander[/\\]lib[/\\]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!source.includes(eager)) throw new Error(`${args.path}: expected "${eager}" (commander changed: review scripts/esbuild-plugins.mjs)`);
      const uses = source.match(/childProcess\.\w+/g) ?? [];
      if (uses.some((use) => use !== 'childProcess.spawn')) throw new Error(`${args.path}: uses ${[...new Set(uses)].join(', ')}; the lazy stand-in has spawn only`);
      return { contents: source.replace(eager, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };"), loader: 'js' };
    });
  },
};

/** esbuild's options for a CommonJS file holding pgssl's code and every package it needs. */
export const selfContainedBuild = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // pg's optional native binding: only loaded when pg.native is read, which pgssl never does.
  external: ['pg-native'],
  // createRequire(import.meta.url) in the ES modules: the bundle's own location.
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__importMetaUrl' },
  plugins: [inlineLazyRequires, lazyChildProcessInCommander],
  metafile: true,
  logLevel: 'warning',
};

/**
 * Throws unless the output `file` loads nothing but Node's built-in modules
 * (and pg's unused native binding). The metafile names what esbuild left
 * outside; the text shows what it does not name: an import() of a computed
 * name, a package's own createRequire. No import() may stay in any case:
 * code from V8's code cache has no callback for it (src/bundleLoader.cts).
 */
export function assertSelfContained(file, metafile) {
  const outside = Object.values(metafile.outputs)
    .flatMap((out) => out.imports)
    .filter((i) => i.kind === 'dynamic-import' || (i.external && !(i.path.startsWith('node:') || builtinModules.includes(i.path) || i.path === 'pg-native')))
    .map((i) => `${i.kind} ${i.path}`);
  const code = readFileSync(file, 'utf8');
  // esbuild starts each input's code with a line "// its/path.js".
  const inputs = [...code.matchAll(/(?:^|\n)\/\/ (\S+)\n/g)];
  const inputAt = (index) => inputs.findLast((input) => input.index < index)?.[1];
  for (const match of code.matchAll(/\bimport\(|createRequire\)?\((?!file\))/g)) {
    const input = inputAt(match.index);
    // (src/cluster/binaries.ts's only resolves the embedded PostgreSQL packages of a checkout: see inlineLazyRequires.)
    if (match[0].startsWith('createRequire') && input === 'dist/src/cluster/binaries.js') continue;
    outside.push(`${input}: ${code.slice(Math.max(0, match.index - 60), match.index + 40).replace(/\s+/g, ' ')}`);
  }
  if (outside.length > 0) throw new Error(`${file} would load from outside itself at run time:\n  ${outside.join('\n  ')}`);
}
