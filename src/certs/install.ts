/**
 * Installs server TLS files: planned as data (paths, modes, the settings that
 * will point at them), then written atomically with the final mode from the
 * first byte, owned by the data directory's owner, each existing different
 * file backed up first. Identical files are left alone (idempotent).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { writeFileAtomic } from '../files/atomicWrite.js';
import { backupFile, type Backup } from '../files/backup.js';

export interface PlannedTlsFile {
  role: 'cert' | 'key' | 'ca';
  setting: 'ssl_cert_file' | 'ssl_key_file' | 'ssl_ca_file';
  path: string;
  /** What ALTER SYSTEM gets: relative to the data directory when inside it. */
  settingValue: string;
  content: string;
  mode: number;
}

export interface TlsFileContents {
  certificatePem: string;
  privateKeyPem: string;
  caCertificatePem?: string;
}

export function planTlsFiles(contents: TlsFileContents, dir: string, dataDirectory: string): PlannedTlsFile[] {
  const plan: PlannedTlsFile[] = [
    { role: 'cert', setting: 'ssl_cert_file', path: join(dir, 'server.crt'), settingValue: '', content: contents.certificatePem, mode: 0o644 },
    { role: 'key', setting: 'ssl_key_file', path: join(dir, 'server.key'), settingValue: '', content: contents.privateKeyPem, mode: 0o600 },
  ];
  if (contents.caCertificatePem) plan.push({ role: 'ca', setting: 'ssl_ca_file', path: join(dir, 'root.crt'), settingValue: '', content: contents.caCertificatePem, mode: 0o644 });
  for (const file of plan) file.settingValue = settingPath(file.path, dataDirectory);
  return plan;
}

export function settingPath(path: string, dataDirectory: string): string {
  const rel = relative(dataDirectory, path);
  return !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export interface InstalledFile {
  path: string;
  changed: boolean;
  /** Set when an existing different file was replaced. */
  backup?: Backup;
  /** The file did not exist before (an undo removes it). */
  created: boolean;
}

export interface FileOwner {
  uid: number;
  gid: number;
}

/** The owner new files get: the data directory's, when we may chown (root); else whoever we are. */
export function dataDirectoryOwner(dataDirectory: string): FileOwner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const stat = statSync(dataDirectory);
  return { uid: stat.uid, gid: stat.gid };
}

/**
 * Writes the planned files. `beforeChange` runs before each write that changes
 * something (the journal registers the undo there). Throws on the first
 * failure; files already written stay written (the caller's journal undoes them).
 */
export function installTlsFiles(plan: PlannedTlsFile[], owner: FileOwner | undefined, beforeChange: (file: PlannedTlsFile, previous: InstalledFile) => void = () => undefined): InstalledFile[] {
  const results: InstalledFile[] = [];
  for (const file of plan) {
    const exists = existsSync(file.path);
    if (exists && readFileSync(file.path, 'utf8') === file.content && (statSync(file.path).mode & 0o777) === file.mode) {
      results.push({ path: file.path, changed: false, created: false });
      continue;
    }
    const result: InstalledFile = { path: file.path, changed: true, created: !exists };
    if (exists) result.backup = backupFile(file.path);
    beforeChange(file, result);
    writeFileAtomic(file.path, file.content, { mode: file.mode, ...(owner ?? {}) });
    results.push(result);
  }
  return results;
}
