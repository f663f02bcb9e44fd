/**
 * What postgresql.auto.conf holds now, as the server parses it
 * (pg_file_settings reads the files at query time, not what is loaded).
 * Later lines win, as they do for the server. Read-only; needs superuser.
 */
import type { Client } from './connect.js';

export async function readAutoConfValues(client: Client, autoConfPath: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string | null; setting: string | null }>(
    'SELECT name, setting FROM pg_file_settings WHERE sourcefile = $1 ORDER BY seqno',
    [autoConfPath],
  );
  const values = new Map<string, string>();
  for (const row of rows) if (row.name !== null && row.setting !== null) values.set(row.name.toLowerCase(), row.setting);
  return values;
}
