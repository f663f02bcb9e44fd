/**
 * Which weak handshakes to try against a server, and when trying them is
 * pointless. Each probe offers only one kind of weak suite (or only one old
 * protocol), so whatever the server accepts is weak by construction. Pure.
 *
 * The server logs every handshake it refuses ("could not accept SSL
 * connection: no shared cipher"): probes run only when the settings leave
 * room for a weak suite or protocol, not against a list that by OpenSSL's
 * own grammar can only yield forward-secret AEAD suites.
 */

export type WeakProbeId = 'TLSv1' | 'TLSv1.1' | 'static-rsa' | 'cbc' | '3des' | 'rc4' | 'null' | 'anonymous' | 'export';

export interface WeakProbe {
  id: WeakProbeId;
  kind: 'protocol' | 'cipher';
  /** In the DBA's words, for findings. */
  label: string;
  minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';
  maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';
  /**
   * OpenSSL cipher list offered. @SECLEVEL=0: OpenSSL 3 refuses to even offer
   * these (and TLS < 1.2, whose signatures use SHA-1) at its default level.
   */
  ciphers: string;
}

const everything = 'ALL:COMPLEMENTOFALL:@SECLEVEL=0';

export const weakProbes: readonly WeakProbe[] = [
  { id: 'TLSv1', kind: 'protocol', label: 'TLS 1.0', minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: everything },
  { id: 'TLSv1.1', kind: 'protocol', label: 'TLS 1.1', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: everything },
  { id: 'static-rsa', kind: 'cipher', label: 'static RSA key exchange (no forward secrecy)', minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'kRSA:@SECLEVEL=0' },
  {
    id: 'cbc',
    kind: 'cipher',
    label: 'CBC mode (with forward secrecy)',
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.2',
    ciphers: 'kECDHE:kDHE:!aNULL:!eNULL:!AESGCM:!AESCCM:!CHACHA20:!ARIAGCM:!kRSA:!PSK:@SECLEVEL=0',
  },
  { id: '3des', kind: 'cipher', label: '3DES', minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: '3DES:@SECLEVEL=0' },
  { id: 'rc4', kind: 'cipher', label: 'RC4', minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'RC4:@SECLEVEL=0' },
  { id: 'null', kind: 'cipher', label: 'NULL encryption', minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'eNULL:@SECLEVEL=0' },
  { id: 'anonymous', kind: 'cipher', label: 'anonymous key exchange (no server authentication)', minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'aNULL:!eNULL:@SECLEVEL=0' },
  { id: 'export', kind: 'cipher', label: 'export-grade', minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'EXP:@SECLEVEL=0' },
];

const strictMinProtocols = new Set(['TLSv1.2', 'TLSv1.3']);

// OpenSSL aliases (ciphers(1)) whose intersection with an AEAD alias is forward-secret AEAD only.
const forwardSecret = new Set(['ECDHE', 'EECDH', 'kECDHE', 'kEECDH']);
const aead = new Set(['AESGCM', 'CHACHA20']);
const strictSuiteName = /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/;

/**
 * True when `list` can only enable ECDHE with AES-GCM or ChaCha20 (e.g.
 * pgssl's 'ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL'): every term that adds suites
 * is such an intersection or such a suite's full name; removals and ordering
 * terms cannot add. Anything else (HIGH, DEFAULT, AES128-SHA…) is not known.
 */
export function onlyStrongSuites(list: string): boolean {
  const terms = list.split(/[:, ]+/).filter(Boolean);
  let adds = 0;
  for (const term of terms) {
    if (term.startsWith('!') || term.startsWith('-') || term.startsWith('@')) continue;
    adds++;
    const name = term.startsWith('+') ? term.slice(1) : term;
    if (strictSuiteName.test(name)) continue;
    const parts = name.split('+');
    if (!(parts.some((p) => forwardSecret.has(p)) && parts.some((p) => aead.has(p)))) return false;
  }
  return adds > 0;
}

export interface WeakTlsSettings {
  ciphers: string | undefined;
  minProtocol: string | undefined;
}

/** The probes worth running against a server with these settings (none when the settings leave no room). */
export function probesFor(settings: WeakTlsSettings): WeakProbe[] {
  const protocols = !strictMinProtocols.has(settings.minProtocol ?? '');
  const ciphers = settings.ciphers === undefined || !onlyStrongSuites(settings.ciphers);
  return weakProbes.filter((probe) => (probe.kind === 'protocol' ? protocols : ciphers));
}
