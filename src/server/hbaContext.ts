/** What `hba explain` needs from a live server: its pg_hba.conf path, major, and a role's memberships. Read-only. */
import { OperationalError } from '../errors.js';
import type { Client } from './connect.js';

export interface HbaServerContext {
  hbaFile: string;
  major: number;
  memberOf: string[];
}

export async function readHbaContext(client: Client, user: string): Promise<HbaServerContext> {
  const { rows } = await client.query(
    `SELECT current_setting('hba_file', true) AS hba_file,
            current_setting('server_version_num')::int / 10000 AS major,
            array(SELECT b.rolname FROM pg_roles r JOIN pg_roles b ON b.oid <> r.oid AND pg_has_role(r.oid, b.oid, 'MEMBER')
                   WHERE r.rolname = $1)::text[] AS member_of`,
    [user],
  );
  const row = rows[0];
  if (!row.hba_file) {
    throw new OperationalError('the server does not show hba_file to this role (it needs superuser or pg_read_all_settings); give the file with --file PATH instead.');
  }
  return { hbaFile: row.hba_file, major: row.major, memberOf: row.member_of };
}
