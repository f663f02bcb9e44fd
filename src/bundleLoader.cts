/**
 * Loads pgssl's bundles (dist/bundle/*.cjs, scripts/bundle.mjs) with V8's
 * code cache: the build runs a few commands and keeps what V8 compiled for
 * them beside each bundle (NAME.cjs.cache), so a command starts without
 * parsing and compiling its code again. Node 22 has this built in
 * (module.enableCompileCache); Node 20, which pgssl supports, does not.
 *
 * Without a usable cache (none, another build, another Node or V8 flags:
 * V8 refuses it) the bundle is compiled from its source, exactly as
 * require() would. Either way the result is a real CommonJS module in
 * require.cache.
 *
 * Which build a cache belongs to: the bundle's first line names its build
 * (`// pgssl-bundle <sha256 of the rest>`) and the cache starts with the same
 * name. V8 itself checks only the source's length, so a hand edit of a bundle
 * that kept its length would otherwise run the old code: rebuild instead
 * (npm run build writes both).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import vm from 'node:vm';

// The CommonJS loader's own class, as require('node:module') exports it; that
// module also loads Node's ESM loader (~1 ms), which a command never needs.
// (Not this file's `module`: inside the CLI bundle, that is esbuild's stand-in.)
type ModuleClass = typeof import('node:module') & { _cache: Record<string, NodeJS.Module | undefined>; _nodeModulePaths(dir: string): string[]; wrap(source: string): string };
const Module = (require.main?.constructor ?? require('node:module')) as ModuleClass;

const buildLine = /^\/\/ pgssl-bundle ([0-9a-f]{64})\n/;
const idLength = 64;

interface Loaded {
  script: vm.Script;
  id?: string;
  codeCacheUsed: boolean;
}
/** Shared by every copy of this file (the CLI bundle has one inside). */
const loaded: Map<string, Loaded> = ((globalThis as { [key: symbol]: Map<string, Loaded> | undefined })[Symbol.for('pgssl.bundles')] ??= new Map());

function cacheFor(file: string, id: string | undefined): Buffer | undefined {
  if (!id || process.env.PGSSL_NO_CODE_CACHE) return undefined;
  let cache: Buffer;
  try {
    cache = readFileSync(`${file}.cache`);
  } catch {
    return undefined;
  }
  return cache.subarray(0, idLength).toString('latin1') === id ? cache.subarray(idLength) : undefined;
}

/** The exports of the bundle at `file` (an absolute path); once per process, like require(). */
export function loadBundle<T>(file: string): T {
  const cached = Module._cache[file];
  if (cached) return cached.exports as T;
  const source = readFileSync(file, 'utf8');
  const id = buildLine.exec(source)?.[1];
  const cachedData = cacheFor(file, id);
  // No import() may be in a bundle (scripts/bundle.mjs checks): code from a cache made in
  // another process has no callback for it, and Node 20's way to give one is experimental.
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  loaded.set(file, { script, id, codeCacheUsed: cachedData !== undefined && !script.cachedDataRejected });

  const bundle = new Module(file, require.main) as NodeJS.Module;
  bundle.filename = file;
  bundle.paths = Module._nodeModulePaths(dirname(file));
  Module._cache[file] = bundle;
  try {
    (script.runInThisContext() as (...args: unknown[]) => void).call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, dirname(file));
  } catch (error) {
    delete Module._cache[file];
    throw error;
  }
  bundle.loaded = true;
  return bundle.exports as T;
}

/** Whether V8 took the code cache of the bundle loaded from `file` (undefined: not loaded in this process). */
export function codeCacheUsed(file: string): boolean | undefined {
  return loaded.get(file)?.codeCacheUsed;
}

/**
 * The build's half (scripts/bundle.mjs, in a process of its own, after running
 * commands through the bundles): writes, for every bundle loaded, what V8
 * has compiled of it by now as FILE.cache. Returns the files written.
 */
export function writeCodeCaches(): string[] {
  const written: string[] = [];
  for (const [file, { script, id }] of loaded) {
    if (!id) throw new Error(`${file} has no "// pgssl-bundle <id>" first line: scripts/bundle.mjs writes it`);
    writeFileSync(`${file}.cache`, Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]));
    written.push(`${file}.cache`);
  }
  return written;
}
