/**
 * The server's certificate, key and CA files as they are on disk now (they may
 * differ from what the server loaded). Reads only.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseCertificates, readPrivateKey, summarizeCertificate } from '../certs/x509.js';
import { keyPermissionProblem } from '../files/keyPermissions.js';
import type { SettingFact } from '../server/facts.js';
import type { CertFileEvidence } from './evidence.js';

const fileSettings = [
  { role: 'cert', setting: 'ssl_cert_file' },
  { role: 'key', setting: 'ssl_key_file' },
  { role: 'ca', setting: 'ssl_ca_file' },
] as const;

export function inspectServerFiles(settings: Record<string, SettingFact>, dataDirectory: string, now: Date): CertFileEvidence[] {
  const serverUid = statSync(dataDirectory).uid;
  const evidence: CertFileEvidence[] = [];
  let leaf: X509Certificate | undefined;
  for (const { role, setting } of fileSettings) {
    const value = settings[setting]?.value;
    if (!value) continue;
    const path = isAbsolute(value) ? value : join(dataDirectory, value);
    const file: CertFileEvidence = { role, setting, path, exists: false, readable: false };
    evidence.push(file);
    let text: string;
    try {
      const stat = statSync(path);
      file.exists = true;
      file.mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      file.ownerUid = stat.uid;
      if (role === 'key') file.permissionProblem = keyPermissionProblem(stat, serverUid);
      text = readFileSync(path, 'utf8');
      file.readable = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      file.problem = code === 'ENOENT' ? 'file does not exist' : code === 'EACCES' ? 'not readable by this OS user (run as the postgres OS user or root)' : (error as Error).message;
      continue;
    }
    if (role === 'key') {
      const key = readPrivateKey(text);
      file.passphraseProtected = key.kind === 'encrypted';
      if (key.kind === 'invalid') file.problem = `not a usable private key: ${key.reason}`;
      if (key.kind === 'key' && leaf) file.matchesCertificate = leaf.checkPrivateKey(key.key);
      continue;
    }
    try {
      const certs = parseCertificates(text);
      if (certs.length === 0) {
        file.problem = 'no PEM certificate in the file';
        continue;
      }
      file.certificateCount = certs.length;
      file.certificate = summarizeCertificate(certs[0], now);
      if (role === 'cert') leaf = certs[0];
    } catch (error) {
      file.problem = `not a valid certificate: ${(error as Error).message}`;
    }
  }
  return evidence;
}
