/**
 * What a pgssl process loaded, reported by the process itself: a file to
 * preload with `node --require` that prints at exit every module file in
 * require.cache (the bundles are there too) and, per bundle, whether V8 took
 * its code cache (src/bundleLoader.cts's registry), and the parser of that.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the preload file into `dir`; returns its path. */
export function writeBundleReporter(dir: string): string {
  const file = join(dir, 'bundle-report.cjs');
  writeFileSync(
    file,
    "process.on('exit', () => { const bundles = globalThis[Symbol.for('pgssl.bundles')] ?? new Map(); process.stderr.write(`pgssl-loaded: ${JSON.stringify({ files: Object.keys(require.cache), codeCacheUsed: Object.fromEntries([...bundles].map(([file, b]) => [file.slice(file.lastIndexOf('/') + 1), b.codeCacheUsed])) })}\\n`); });\n",
  );
  return file;
}

export interface BundleReport {
  /** Every module file loaded. */
  files: string[];
  /** The bundles loaded (file names), in load order. */
  bundles: string[];
  /** Per bundle loaded: whether V8 took its code cache. */
  codeCacheUsed: Record<string, boolean>;
}

/** The report in a process's stderr; throws when there is none. */
export function parseBundleReport(stderr: string): BundleReport {
  const line = /^pgssl-loaded: (.*)$/m.exec(stderr)?.[1];
  if (!line) throw new Error(`no bundle report in:\n${stderr}`);
  const { files, codeCacheUsed } = JSON.parse(line) as { files: string[]; codeCacheUsed: Record<string, boolean> };
  return { files, codeCacheUsed, bundles: files.filter((file) => file.includes('/dist/bundle/')).map((file) => file.slice(file.lastIndexOf('/') + 1)) };
}
