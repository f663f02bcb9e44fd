/**
 * Read-only discovery of what the server is and how it is set up. Each read
 * that needs more privilege than we have is noted as a limitation instead of
 * failing the whole command.
 */
import type { Client } from './connect.js';
import { readOrNote, type Limitation } from './limitations.js';

export interface SettingFact {
  name: string;
  value: string;
  /** pg_settings.source: default, configuration file, command line… */
  source: string;
  sourcefile: string | null;
  sourceline: number | null;
  pendingRestart: boolean;
}

export interface FileSetting {
  name: string | null;
  setting: string | null;
  sourcefile: string | null;
  sourceline: number | null;
  applied: boolean;
  error: string | null;
}

export interface ServerFacts {
  versionNum: number;
  major: number;
  versionText: string;
  currentUser: string;
  isSuperuser: boolean;
  canReadAllSettings: boolean;
  canReadAllStats: boolean;
  inRecovery: boolean;
  backendPid: number;
  ownClientAddr: string | null;
  ownTls: boolean;
  postmasterStartEpoch: number;
  settings: Record<string, SettingFact>;
  /** Rows of pg_file_settings for ssl* and any row with an error; undefined when not readable. */
  fileSettings: FileSetting[] | undefined;
}

const wantedSettings = [
  'listen_addresses',
  'port',
  'data_directory',
  'hba_file',
  'config_file',
  'allow_alter_system',
  'password_encryption',
  'unix_socket_directories',
  'log_directory',
];

export async function discoverServerFacts(client: Client, limitations: Limitation[]): Promise<ServerFacts> {
  const basics = (
    await client.query(`
      SELECT current_setting('server_version_num')::int AS version_num,
             version() AS version_text,
             current_user AS current_user,
             current_setting('is_superuser') = 'on' AS is_superuser,
             pg_has_role('pg_read_all_settings', 'USAGE') AS read_all_settings,
             pg_has_role('pg_read_all_stats', 'USAGE') AS read_all_stats,
             pg_is_in_recovery() AS in_recovery,
             pg_backend_pid() AS backend_pid,
             host(inet_client_addr()) AS client_addr,
             coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS own_tls,
             extract(epoch FROM pg_postmaster_start_time())::float8 AS postmaster_start`)
  ).rows[0];

  const settingRows = (
    await client.query(
      `SELECT name, setting, source, sourcefile, sourceline, pending_restart
         FROM pg_settings WHERE name LIKE 'ssl%' OR name = ANY($1) ORDER BY name`,
      [wantedSettings],
    )
  ).rows;
  const settings: Record<string, SettingFact> = {};
  for (const row of settingRows) {
    settings[row.name] = {
      name: row.name,
      value: row.setting,
      source: row.source,
      sourcefile: row.sourcefile,
      sourceline: row.sourceline,
      pendingRestart: row.pending_restart,
    };
  }
  const hidden = ['data_directory', 'hba_file', 'config_file'].filter((name) => !settings[name]);
  if (hidden.length > 0) {
    limitations.push({
      what: `settings ${hidden.join(', ')}`,
      reason: `hidden from role "${basics.current_user}": they need superuser or membership in pg_read_all_settings, so files on disk are not checked`,
    });
  }

  const fileSettings = await readOrNote(
    limitations,
    'pg_file_settings (configuration file errors, settings not yet reloaded)',
    async () =>
      (
        await client.query(
          `SELECT name, setting, sourcefile, sourceline, applied, error
             FROM pg_file_settings WHERE name LIKE 'ssl%' OR error IS NOT NULL ORDER BY seqno`,
        )
      ).rows as FileSetting[],
    (error) => privilegeReason(error, 'superuser'),
  );

  const versionNum: number = basics.version_num;
  return {
    versionNum,
    major: Math.floor(versionNum / 10000),
    versionText: basics.version_text,
    currentUser: basics.current_user,
    isSuperuser: basics.is_superuser,
    canReadAllSettings: basics.is_superuser || basics.read_all_settings,
    canReadAllStats: basics.is_superuser || basics.read_all_stats,
    inRecovery: basics.in_recovery,
    backendPid: basics.backend_pid,
    ownClientAddr: basics.client_addr,
    ownTls: basics.own_tls,
    postmasterStartEpoch: basics.postmaster_start,
    settings,
    fileSettings,
  };
}

export function privilegeReason(error: unknown, needed: string): string {
  const message = (error as Error).message;
  return /permission denied/i.test(message) ? `${message} (needs ${needed})` : message;
}
