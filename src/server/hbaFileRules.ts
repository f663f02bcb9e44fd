/**
 * The server's own reading of pg_hba.conf (pg_hba_file_rules, PostgreSQL 10+;
 * file_name and rule_number since 16). Reads the file as it is on disk now,
 * not what is loaded. Changes nothing; throws when not permitted.
 */
import type { Client } from './connect.js';

export interface ServerHbaRule {
  fileName: string | null;
  lineNumber: number;
  type: string | null;
  database: string[] | null;
  userName: string[] | null;
  address: string | null;
  netmask: string | null;
  authMethod: string | null;
  options: string[] | null;
  error: string | null;
}

export async function readServerHbaRules(client: Client): Promise<ServerHbaRule[]> {
  const { rows } = await client.query('SELECT to_jsonb(r) AS rule FROM pg_hba_file_rules r');
  return rows.map(({ rule }) => ({
    fileName: rule.file_name ?? null,
    lineNumber: rule.line_number,
    type: rule.type,
    database: rule.database,
    userName: rule.user_name,
    address: rule.address,
    netmask: rule.netmask,
    authMethod: rule.auth_method,
    options: rule.options,
    error: rule.error,
  }));
}

/** A line the server refuses. Some checks give no message (e.g. an unresolvable RADIUS server): type is then null. */
export function isRejectedRule(rule: ServerHbaRule): boolean {
  return rule.error !== null || rule.type === null;
}
