/**
 * Which pg_hba.conf address specs can only match the machine itself. Pure.
 * Loopback here means 127.0.0.0/8, ::1, the name "localhost" and "samehost":
 * a client on another host can never match them (docs, "The pg_hba.conf File").
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { HbaAddress } from './model.js';

/** Whether only the machine itself can match this pg_hba.conf address (none: a local rule). */
export function isLoopbackOnly(address: HbaAddress | undefined): boolean {
  if (!address) return true;
  switch (address.kind) {
    case 'ip':
      if (address.family === 4) return address.prefix >= 8 && address.ip.startsWith('127.');
      return address.prefix >= 0 && isLoopbackAddress(`${address.ip}/${address.prefix}`);
    case 'hostname':
      return address.hostname.toLowerCase() === 'localhost';
    case 'samehost':
      return true;
    default:
      return false;
  }
}

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

/**
 * node:net's isIPv4 (four decimal octets 0-255, no leading zero), without a
 * regular expression: pg_hba.conf parsing calls it once per rule.
 */
export function isIPv4Text(text: string): boolean {
  let octets = 0;
  let i = 0;
  const length = text.length;
  while (i < length) {
    const first = text.charCodeAt(i);
    if (first < 48 || first > 57) return false;
    let value = first - 48;
    let digits = 1;
    i++;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (value === 0) return false;
      value = value * 10 + c - 48;
      if (++digits > 3 || value > 255) return false;
      i++;
    }
    octets++;
    if (i === length) return octets === 4;
    if (text.charCodeAt(i) !== 46 || octets === 4) return false;
    i++;
  }
  return false;
}

/**
 * An IPv4 address as glibc's getaddrinfo(AI_NUMERICHOST) reads it, which is
 * how PostgreSQL reads the address and netmask columns: inet_aton's forms, with
 * nothing after them (__inet_aton_exact). One to four parts separated by dots;
 * each part decimal, octal after a leading 0 (an 8 or 9 makes it invalid) or
 * hexadecimal after 0x/0X (at least one digit); the last part fills the bytes
 * left: "127.1" is 127.0.0.1, "10.1" is 10.0.0.1, "10" is 0.0.0.10,
 * "2130706433" is 127.0.0.1. Returns the address as a 32-bit unsigned number,
 * or undefined when getaddrinfo would not take it as an IPv4 address.
 */
export function parseIPv4(text: string): number | undefined {
  const parts: number[] = [];
  let i = 0;
  const length = text.length;
  for (;;) {
    // strtoul(cp, &end, 0) after an isdigit() check: no sign, no blank.
    let c = text.charCodeAt(i);
    if (!(c >= 48 && c <= 57)) return undefined;
    let value = 0;
    if (c === 48 && (text.charCodeAt(i + 1) | 0x20) === 0x78 && isHexDigit(text.charCodeAt(i + 2))) {
      for (i += 2; i < length && isHexDigit((c = text.charCodeAt(i))); i++) {
        value = value * 16 + (c <= 57 ? c - 48 : (c | 0x20) - 87);
        if (value > 0xffffffff) return undefined;
      }
    } else {
      const base = c === 48 ? 8 : 10;
      for (; i < length && (c = text.charCodeAt(i)) >= 48 && c < 48 + base; i++) {
        value = value * base + c - 48;
        if (value > 0xffffffff) return undefined;
      }
    }
    if (i < length && text.charCodeAt(i) === 46) {
      if (parts.length === 3 || value > 0xff) return undefined;
      parts.push(value);
      i++;
      continue;
    }
    // Anything left (an 8 in an octal part, an "x" without digits, a letter) is not an address.
    if (i !== length) return undefined;
    const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][parts.length];
    if (value > lastMax) return undefined;
    let address = value;
    for (let p = 0; p < parts.length; p++) address += parts[p] * 2 ** (24 - 8 * p);
    return address;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

/** A 32-bit IPv4 address as the server prints it (a.b.c.d). */
export function ipv4Dotted(address: number): string {
  return `${Math.floor(address / 2 ** 24)}.${Math.floor(address / 2 ** 16) & 255}.${Math.floor(address / 256) & 255}.${address & 255}`;
}

export function prefixOfMask(mask: string): number | undefined {
  const v4 = parseIPv4(mask);
  if (v4 !== undefined) mask = ipv4Dotted(v4);
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
