/**
 * Which pg_hba.conf address specs can only match the machine itself. Pure.
 * Loopback here means 127.0.0.0/8, ::1, the name "localhost" and "samehost":
 * a client on another host can never match them (docs, "The pg_hba.conf File").
 */
import { isIPv4, isIPv6 } from 'node:net';

export function isLoopbackAddress(address: string, netmask?: string | null): boolean {
  const spec = address.trim().toLowerCase();
  if (spec === 'localhost' || spec === 'samehost') return true;
  if (spec === 'all' || spec === 'samenet') return false;
  const [ip, prefixText] = spec.split('/');
  const prefix = prefixText !== undefined ? Number(prefixText) : netmask ? prefixOfMask(netmask) : undefined;
  if (isIPv4(ip)) {
    const length = prefix ?? 32;
    return ip.startsWith('127.') && length >= 8;
  }
  if (isIPv6(ip)) {
    const length = prefix ?? 128;
    return (expandIPv6(ip) === '0000:0000:0000:0000:0000:0000:0000:0001' && length === 128) || mappedLoopback(ip, length);
  }
  return false;
}

/** ::ffff:127.x.y.z (IPv4-mapped loopback) with at least the /8 fixed. */
function mappedLoopback(ip: string, length: number): boolean {
  return /^::ffff:127\./.test(ip) && length >= 104;
}

export function prefixOfMask(mask: string): number | undefined {
  if (isIPv4(mask)) {
    const bits = mask
      .split('.')
      .map((octet) => Number(octet).toString(2).padStart(8, '0'))
      .join('');
    return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
  }
  if (isIPv6(mask)) {
    const bits = expandIPv6(mask)
      .split(':')
      .map((group) => parseInt(group, 16).toString(2).padStart(16, '0'))
      .join('');
    return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 128 : bits.indexOf('0') : undefined;
  }
  return undefined;
}

export function expandIPv6(ip: string): string {
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array(missing).fill('0'), ...tailGroups].map((g) => g.padStart(4, '0')).join(':');
}
