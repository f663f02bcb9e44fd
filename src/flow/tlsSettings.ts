/**
 * Step 3's target: the settings that turn TLS on, compared with what the
 * server has loaded. Never weakens: a stricter protocol floor or a custom
 * cipher list that is already strict is kept. Pure.
 */
import type { SettingFact } from '../server/facts.js';
import { alterSystemStatement, isBroadCipherList, strictCiphers, stricterMinProtocol } from '../server/settings.js';
import type { WeakTlsOutcome } from '../server/weakTls.js';

export interface SettingChange {
  name: string;
  before: string | undefined;
  after: string;
  sql: string;
  /** Why it changes, when it is more than "TLS needs it" (for the plan and the report). */
  reason?: string;
}

export interface TlsSettingsInput {
  settings: Record<string, SettingFact>;
  files: { setting: string; settingValue: string }[];
  minTls: 'TLSv1.2' | 'TLSv1.3';
  keepCiphers: boolean;
  /**
   * Weak handshakes run against the server before any change
   * (server/weakTls.ts probeWeakTls with probesFor(settings)): a cipher list
   * the server proved weak is replaced even when its tokens look strict.
   */
  weakTls?: WeakTlsOutcome[];
}

export function desiredTlsSettings(input: TlsSettingsInput): SettingChange[] {
  const wanted: [string, string, string?][] = input.files.map((f) => [f.setting, f.settingValue]);
  wanted.push(['ssl_min_protocol_version', stricterMinProtocol(input.settings.ssl_min_protocol_version?.value, input.minTls)]);
  const ciphers = input.settings.ssl_ciphers?.value;
  if (!input.keepCiphers) {
    const provenWeak = (input.weakTls ?? []).flatMap((r) => (r.kind === 'cipher' && r.outcome === 'accepted' ? [r.cipher] : []));
    // The token heuristic stays a reason of its own: the certificate may change in this same run
    // (an RSA key makes static-RSA suites negotiable that an ECDSA key could not).
    if (provenWeak.length > 0) wanted.push(['ssl_ciphers', strictCiphers, `the server accepted weak suites: ${provenWeak.join(', ')}`]);
    else if (ciphers === undefined || isBroadCipherList(ciphers)) wanted.push(['ssl_ciphers', strictCiphers]);
  }
  // ssl last: the files and parameters are in place when it takes effect.
  wanted.push(['ssl', 'on']);
  return wanted
    .filter(([name, value]) => input.settings[name]?.value !== value)
    .map(([name, value, reason]) => ({ name, before: input.settings[name]?.value, after: value, sql: alterSystemStatement(name, value), ...(reason ? { reason } : {}) }));
}
