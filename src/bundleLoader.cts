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
 * A cache holds, after its first line (the Node version and CPU that made it,
 * and two lengths), a copy of the bundle it was made from, then V8's data.
 * It is used only when that copy equals the bundle byte for byte (a memcmp,
 * 20–120 µs for these bundles), so an edited bundle (even a sed that keeps its
 * length, which is all V8 checks) and a bundle of another build never run
 * cached code. The Node version is there because Node 20's patch releases
 * share one V8 version. The V8 data itself is not checksummed (a native
 * checksum needs zlib, ~1.8 ms of every start): a damaged cache is as
 * likely as a damaged bundle or node binary; PGSSL_NO_CODE_CACHE=1 or a
 * rebuild is the way out.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import vm from 'node:vm';

// The CommonJS loader's own class, as require('node:module') exports it; that
// module also loads Node's ESM loader (~1 ms), which a command never needs.
// (Not this file's `module`: inside the CLI bundle, that is esbuild's stand-in.)
type ModuleClass = typeof import('node:module') & { _cache: Record<string, NodeJS.Module | undefined>; _nodeModulePaths(dir: string): string[]; wrap(source: string): string };
const Module = (require.main?.constructor ?? require('node:module')) as ModuleClass;

/** The cache's first line, for a bundle of `sourceLength` bytes and V8 data of `dataLength`. */
function cacheHeader(sourceLength: number, dataLength: number): string {
  return `pgssl-code-cache 2 node-${process.version} ${process.arch} ${sourceLength} ${dataLength}\n`;
}

interface Loaded {
  script: vm.Script;
  codeCacheUsed: boolean;
}
/** Shared by every copy of this file (the CLI bundle has one inside). */
const loaded: Map<string, Loaded> = ((globalThis as { [key: symbol]: Map<string, Loaded> | undefined })[Symbol.for('pgssl.bundles')] ??= new Map());

/** V8's data from `file`.cache, when that cache was made from exactly this source by this Node. */
function cacheFor(file: string, source: Buffer): Buffer | undefined {
  if (process.env.PGSSL_NO_CODE_CACHE) return undefined;
  let cache: Buffer;
  try {
    cache = readFileSync(`${file}.cache`);
  } catch {
    return undefined;
  }
  const end = cache.indexOf(10);
  if (end === -1) return undefined;
  const sourceEnd = end + 1 + source.length;
  if (cache.toString('latin1', 0, end + 1) !== cacheHeader(source.length, cache.length - sourceEnd)) return undefined;
  return cache.subarray(end + 1, sourceEnd).equals(source) ? cache.subarray(sourceEnd) : undefined;
}

/** The exports of the bundle at `file` (an absolute path); once per process, like require(). */
export function loadBundle<T>(file: string): T {
  const cached = Module._cache[file];
  if (cached) return cached.exports as T;
  const source = readFileSync(file);
  const cachedData = cacheFor(file, source);
  // No import() may be in a bundle (scripts/bundle.mjs checks): code from a cache made in
  // another process has no callback for it, and Node 20's way to give one is experimental.
  const script = new vm.Script(Module.wrap(source.toString('utf8')), { filename: file, cachedData });
  loaded.set(file, { script, codeCacheUsed: cachedData !== undefined && !script.cachedDataRejected });

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
  for (const [file, { script }] of loaded) {
    const source = readFileSync(file);
    const data = script.createCachedData();
    // Whole or not at all: a build killed half-way leaves no half cache.
    writeFileSync(`${file}.cache.tmp`, Buffer.concat([Buffer.from(cacheHeader(source.length, data.length), 'latin1'), source, data]));
    renameSync(`${file}.cache.tmp`, `${file}.cache`);
    written.push(`${file}.cache`);
  }
  return written;
}
