/**
 * Server TLS files planned as data: paths, modes (the key 0600 from the first
 * byte), and the settings that will point at them. Enable's install-files
 * step writes them through the journaled writer (flow/changes.ts). Pure.
 */
import { isAbsolute, join, relative } from 'node:path';

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
