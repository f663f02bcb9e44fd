/**
 * The server log line that explains a failure (e.g. "could not load server
 * certificate file"), found through pg_current_logfile() when the logging
 * collector writes one and the file is readable here. Reads only.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Client } from './connect.js';

const tailBytes = 64 * 1024;

/** `patterns` in order of preference: the last line matching the first pattern that matches at all. */
export async function lastServerLogLine(client: Client, dataDirectory: string, patterns: RegExp[]): Promise<{ file?: string; line?: string }> {
  let file: string | undefined;
  try {
    const { rows } = await client.query('SELECT pg_current_logfile() AS file');
    file = rows[0].file ?? undefined;
  } catch {
    return {};
  }
  if (!file) return {};
  const path = isAbsolute(file) ? file : join(dataDirectory, file);
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.min(size, tailBytes));
      readSync(fd, buffer, 0, buffer.length, size - buffer.length);
      const lines = buffer.toString('utf8').split('\n');
      for (const pattern of patterns) {
        const line = lines.filter((l) => pattern.test(l)).at(-1);
        if (line) return { file: path, line };
      }
      return { file: path };
    } finally {
      closeSync(fd);
    }
  } catch {
    return { file: path };
  }
}
