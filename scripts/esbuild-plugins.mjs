// esbuild plugins shared by the npm bundles (scripts/bundle.mjs) and the
// single executable (scripts/build-sea.mjs).
import { readFileSync } from 'node:fs';

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
