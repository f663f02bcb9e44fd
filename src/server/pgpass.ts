/**
 * ~/.pgpass lookup with libpq's rules (PostgreSQL docs, "The Password File"):
 * first matching line wins, `*` matches anything, `\:` and `\\` escape, a
 * socket connection matches the host name `localhost`, and a file readable by
 * group or others is ignored.
 */
import { readFileSync, statSync } from 'node:fs';

export interface PasswordKey {
  host: string;
  port: number;
  database: string;
  user: string;
}

export function lookupPasswordFile(path: string, key: PasswordKey): string | undefined {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) {
      process.stderr.write(`WARNING: password file "${path}" has group or world access; permissions should be u=rw (0600) or less\n`);
      return undefined;
    }
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return findPassword(text, key);
}

export function findPassword(text: string, key: PasswordKey): string | undefined {
  const host = key.host.startsWith('/') ? 'localhost' : key.host;
  const wanted = [host, String(key.port), key.database, key.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = splitPgpassLine(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value)) return fields[4];
  }
  return undefined;
}

function splitPgpassLine(line: string): string[] {
  const fields: string[] = [''];
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\' && i + 1 < line.length) fields[fields.length - 1] += line[++i];
    else if (ch === ':' && fields.length < 5) fields.push('');
    else fields[fields.length - 1] += ch;
  }
  return fields;
}
