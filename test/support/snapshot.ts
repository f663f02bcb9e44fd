/** What a failed or dry pgssl run must leave exactly as it was: config files (bytes), TLS files, settings. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from './cluster.js';

export interface ServerSnapshot {
  files: Record<string, string | null>;
  settings: Record<string, string>;
}

export async function snapshot(cluster: Cluster, extraDirs: string[] = []): Promise<ServerSnapshot> {
  const files: Record<string, string | null> = {};
  const paths = [cluster.hbaFile, join(cluster.dataDir, 'postgresql.auto.conf'), cluster.confFile, ...['server.crt', 'server.key', 'root.crt'].map((n) => join(cluster.dataDir, n))];
  for (const dir of extraDirs) if (existsSync(dir)) for (const name of readdirSync(dir)) paths.push(join(dir, name));
  for (const path of paths) files[path] = existsSync(path) ? readFileSync(path).toString('base64') : null;
  const rows = await cluster.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name LIKE 'ssl%' ORDER BY name");
  return { files, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])) };
}
