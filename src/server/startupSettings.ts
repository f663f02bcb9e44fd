/**
 * What a stopped server would start with: `postgres -C name`, run the way the
 * server was last started (postmaster.opts names the binary and its options,
 * e.g. Debian's config_file in /etc/postgresql), as the data directory's
 * owner (postgres refuses to run as root). Read-only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError } from '../errors.js';

/** The command line in postmaster.opts: the binary, then its quoted arguments. */
export function parsePostmasterOpts(text: string): { binary: string; args: string[] } {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let match = pattern.exec(text.trim()); match; match = pattern.exec(text.trim())) words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]);
  return { binary: words[0] ?? 'postgres', args: words.slice(1) };
}

export async function startupSetting(dataDirectory: string, name: string, binDir?: string): Promise<string> {
  let binary = binDir ? join(binDir, 'postgres') : 'postgres';
  let args = ['-D', dataDirectory];
  try {
    const opts = parsePostmasterOpts(readFileSync(join(dataDirectory, 'postmaster.opts'), 'utf8'));
    if (!binDir) binary = opts.binary;
    args = opts.args;
  } catch {
    // Never started (or the file is gone): the data directory alone.
  }
  const owner = statSync(dataDirectory);
  try {
    return execFileSync(binary, [...args, '-C', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {}),
      cwd: '/',
    }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new OperationalError(`could not ask ${binary} what it would start with (${name}): ${stderr || (error as Error).message}`);
  }
}
