/**
 * What a failed, dry or undone pgssl run must leave exactly as it was: the
 * configuration and TLS files (bytes, mode, owner, symbolic links), the ssl
 * settings in force, and the configuration folders' listing (no backup or
 * temp file left beside them).
 */
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Cluster } from './cluster.js';

export interface FileState {
  content: string | null;
  mode?: string;
  uid?: number;
  gid?: number;
  link?: string;
}

export interface ServerSnapshot {
  files: Record<string, FileState | null>;
  settings: Record<string, string>;
  /** Names in the configuration folders that look like config, TLS, backup or temp files. */
  folders: Record<string, string[]>;
}

export function fileState(path: string): FileState | null {
  if (!existsSync(path) && !isLink(path)) return null;
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return { content: existsSync(path) ? readFileSync(path).toString('base64') : null, link: readlinkSync(path), uid: stat.uid };
  return { content: readFileSync(path).toString('base64'), mode: (stat.mode & 0o7777).toString(8), uid: stat.uid, gid: stat.gid };
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

const interesting = /\.(conf|crt|key|pem|bak|tmp|inc)$|pgssl/;

export async function snapshot(cluster: Cluster, extraDirs: string[] = [], extraFiles: string[] = []): Promise<ServerSnapshot> {
  const files: Record<string, FileState | null> = {};
  const paths = [cluster.hbaFile, join(cluster.dataDir, 'postgresql.auto.conf'), cluster.confFile, ...['server.crt', 'server.key', 'root.crt'].map((n) => join(cluster.dataDir, n)), ...extraFiles];
  for (const dir of extraDirs) if (existsSync(dir)) for (const name of readdirSync(dir)) paths.push(join(dir, name));
  for (const path of paths) files[path] = fileState(path);
  const folders: Record<string, string[]> = {};
  for (const dir of new Set([cluster.dataDir, dirname(cluster.hbaFile), dirname(cluster.confFile), ...extraDirs])) {
    folders[dir] = existsSync(dir) ? readdirSync(dir).filter((n) => interesting.test(n)).sort() : [];
  }
  const rows = await cluster.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name LIKE 'ssl%' ORDER BY name");
  return { files, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])), folders };
}
