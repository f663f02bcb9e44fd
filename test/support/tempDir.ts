/**
 * Temp folders for tests: made in the temp directory, removed when the test
 * file's process ends, whether its tests passed or failed. They hold CA keys,
 * certificates and fake homes: leaving them behind is not harmless litter
 * (scripts/run-tests.mjs fails the suite when anything is left).
 */
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

// 'exit' runs after the last test of the file, also after failures and
// uncaught errors; rmSync is synchronous, as an exit handler must be.
process.on('exit', () => {
  for (const dir of made) removeTree(dir);
});

/** A new empty folder `<tmp>/<prefix>-XXXXXX` (0700), removed at the end of the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made.add(dir);
  return dir;
}

/** Removes a folder from tempDir now (e.g. at the end of one test) rather than at exit. */
export function removeTempDir(dir: string): void {
  removeTree(dir);
  made.delete(dir);
}

/**
 * rm -rf that also gets through folders a test or the server's OS user left
 * without write or search permission (0500, 0000): the owner (or root, which
 * the tests usually are) restores u+rwx and tries again. Reports, never
 * throws: one folder that will not go must not hide the test's own result.
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    makeRemovable(path);
  }
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (error) {
    process.stderr.write(`test cleanup: could not remove ${path}: ${(error as Error).message}\n`);
  }
}

function makeRemovable(path: string): void {
  try {
    const stat = lstatSync(path);
    if (!stat.isDirectory()) return;
    chmodSync(path, stat.mode | 0o700);
    for (const name of readdirSync(path)) makeRemovable(join(path, name));
  } catch {
    // not ours to fix (e.g. chattr +i): the second rmSync reports it
  }
}
