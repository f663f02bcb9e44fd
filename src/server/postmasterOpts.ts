/**
 * How the server was last started: postmaster.opts (written by the
 * postmaster at each start) names the binary and its options, e.g. Debian's
 * `-c config_file=/etc/postgresql/15/main/postgresql.conf` or a `-D` that is
 * the configuration folder. Pure parse, and a read.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function parsePostmasterOpts(text: string): { binary: string; args: string[] } {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  const line = text.trim();
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]);
  return { binary: words[0] ?? 'postgres', args: words.slice(1) };
}

/** The binaries folder and the configuration folder (the `-D` the server was started with), when postmaster.opts says. */
export function lastStart(dataDirectory: string): { binDir?: string; configDir: string } {
  try {
    const { binary, args } = parsePostmasterOpts(readFileSync(join(dataDirectory, 'postmaster.opts'), 'utf8'));
    const d = args.indexOf('-D');
    return { binDir: binary.includes('/') ? dirname(binary) : undefined, configDir: d >= 0 && args[d + 1] ? args[d + 1] : dataDirectory };
  } catch {
    return { configDir: dataDirectory };
  }
}
