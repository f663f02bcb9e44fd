/**
 * The two servers an undo can talk to: a running one (ALTER SYSTEM, reload
 * and wait, pg_settings), and a stopped one (`pgssl rollback -D`), where the
 * settings are written into postgresql.auto.conf as ALTER SYSTEM writes them
 * and the configuration in force is what `postgres -C` says it would start with.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { parseAutoConf, resetInAutoConf, setInAutoConf } from '../server/autoConf.js';
import { lastStart } from '../server/postmasterOpts.js';
import { readAutoConfValues } from '../server/autoConfValues.js';
import type { Client } from '../server/connect.js';
import type { ConnectionTarget } from '../server/connectionTarget.js';
import { reloadAndWait } from '../server/reload.js';
import { alterSystemStatement } from '../server/settings.js';
import { startupSettings } from '../server/startupSettings.js';
import { absoluteSettingPath, type TlsInForce, type UndoServer } from './undo.js';

const tlsFileSettings = ['ssl_cert_file', 'ssl_key_file', 'ssl_ca_file'] as const;

export function onlineUndoServer(client: Client, target: ConnectionTarget, dataDirectory: string): UndoServer {
  const autoConfPath = join(dataDirectory, 'postgresql.auto.conf');
  return {
    readAutoConf: () => readAutoConfValues(client, autoConfPath),
    async setAutoConf(name, value) {
      await client.query(value === null ? `ALTER SYSTEM RESET ${checkedName(name)}` : alterSystemStatement(name, value));
    },
    async reload() {
      await reloadAndWait(client, target);
    },
    async tlsInForce(): Promise<TlsInForce> {
      const { rows } = await client.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name = ANY($1)`, [['ssl', ...tlsFileSettings]]);
      return inForceFrom(new Map(rows.map((r) => [r.name, r.setting])), dataDirectory);
    },
  };
}

/** For a stopped server: the caller has checked that no postmaster runs on `dataDirectory`. */
export function offlineUndoServer(dataDirectory: string, binDir: string | undefined): UndoServer {
  const autoConfPath = join(dataDirectory, 'postgresql.auto.conf');
  const read = () => {
    try {
      return readFileSync(autoConfPath);
    } catch {
      return undefined;
    }
  };
  return {
    async readAutoConf() {
      const text = read();
      return new Map(text === undefined ? [] : parseAutoConf(text, autoConfPath).map((item) => [item.name.toLowerCase(), item.value]));
    },
    async setAutoConf(name, value) {
      const text = read() ?? Buffer.alloc(0);
      const next = value === null ? resetInAutoConf(text, name, autoConfPath) : setInAutoConf(text, name, value, autoConfPath);
      const stat = statSync(dataDirectory);
      // ALTER SYSTEM writes it as the server's user with mode 0600.
      writeFileAtomic(autoConfPath, next, { mode: 0o600, ...(process.getuid?.() === 0 ? { uid: stat.uid, gid: stat.gid } : {}) });
    },
    async reload() {
      // Nothing runs: the next start reads the files as they are now.
    },
    async tlsInForce(): Promise<TlsInForce> {
      const started = lastStart(dataDirectory);
      const values = startupSettings(['ssl', ...tlsFileSettings], { configDir: started.configDir, dataDir: dataDirectory, binDir: binDir ?? started.binDir });
      return inForceFrom(new Map(Object.entries(values)), dataDirectory);
    },
  };
}

function inForceFrom(values: Map<string, string>, dataDirectory: string): TlsInForce {
  return {
    ssl: values.get('ssl') === 'on',
    files: tlsFileSettings.flatMap((setting) => {
      const value = values.get(setting);
      return value ? [{ setting, path: absoluteSettingPath(value, dataDirectory) }] : [];
    }),
    serverUid: statSync(dataDirectory).uid,
  };
}

function checkedName(name: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`unexpected setting name "${name}"`);
  return name;
}
