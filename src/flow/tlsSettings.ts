/**
 * Step 3's target: the settings that turn TLS on, compared with what the
 * server has loaded. Never weakens: a stricter protocol floor or a custom
 * cipher list that is already strict is kept. Pure.
 */
import type { SettingFact } from '../server/facts.js';
import { alterSystemStatement, isBroadCipherList, strictCiphers, stricterMinProtocol } from '../server/settings.js';

export interface SettingChange {
  name: string;
  before: string | undefined;
  after: string;
  sql: string;
}

export interface TlsSettingsInput {
  settings: Record<string, SettingFact>;
  files: { setting: string; settingValue: string }[];
  minTls: 'TLSv1.2' | 'TLSv1.3';
  keepCiphers: boolean;
}


export function desiredTlsSettings(input: TlsSettingsInput): SettingChange[] {
  const wanted: [string, string][] = input.files.map((f) => [f.setting, f.settingValue]);
  wanted.push(['ssl_min_protocol_version', stricterMinProtocol(input.settings.ssl_min_protocol_version?.value, input.minTls)]);
  const ciphers = input.settings.ssl_ciphers?.value;
  if (!input.keepCiphers && (ciphers === undefined || isBroadCipherList(ciphers))) wanted.push(['ssl_ciphers', strictCiphers]);
  // ssl last: the files and parameters are in place when it takes effect.
  wanted.push(['ssl', 'on']);
  return wanted
    .filter(([name, value]) => input.settings[name]?.value !== value)
    .map(([name, value]) => ({ name, before: input.settings[name]?.value, after: value, sql: alterSystemStatement(name, value) }));
}
