/**
 * subjectAltName entries (RFC 5280 §4.2.1.6) from pgssl's "DNS:name" /
 * "IP:address" notation, or bare names and addresses (the kind is guessed):
 * dNSName is an IA5String (ASCII only), iPAddress the 4 or 16 address bytes.
 * Pure.
 */
import { isIP } from 'node:net';

export type AltName = { kind: 'DNS'; name: string } | { kind: 'IP'; address: string; bytes: Buffer };

export function parseAltName(entry: string): AltName {
  const prefixed = /^(DNS|IP):/i.exec(entry);
  const value = prefixed ? entry.slice(prefixed[0].length) : entry;
  const kind = prefixed ? prefixed[1].toUpperCase() : isIP(value) ? 'IP' : 'DNS';
  if (kind === 'IP') {
    const bytes = ipAddressBytes(value);
    if (!bytes) throw new Error(`"${entry}" is not an IPv4 or IPv6 address`);
    return { kind: 'IP', address: value, bytes };
  }
  // IA5String: a name with other characters cannot be written as it was typed (IDNs go in as xn-- A-labels).
  if (value.length === 0 || !/^[\x21-\x7e]+$/.test(value)) throw new Error(`"${entry}" is not a DNS name a certificate can hold (ASCII letters, digits, '-', '.', '*'; write an international name in its xn-- form)`);
  return { kind: 'DNS', name: value };
}

/** 4 bytes for IPv4, 16 for IPv6 (a zone "%eth0" is dropped: it is not part of the address); undefined when it is neither. */
export function ipAddressBytes(text: string): Buffer | undefined {
  const address = text.replace(/%.*$/, '');
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  if (isIP(address) !== 6) return undefined;
  let groups = address;
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (embedded) {
    const [a, b, c, d] = embedded[1].split('.').map(Number);
    groups = groups.slice(0, embedded.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = groups.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const all = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}
