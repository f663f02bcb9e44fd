/**
 * DER (X.690) for the certificate builder: a writer and a strict reader of
 * the few forms an X.509 certificate uses (low tag numbers, definite minimal
 * lengths). It replaced node-forge's ASN.1 layer, whose loading (asn1, util,
 * oids: ~5,000 lines) was a tenth of `pgssl client-cert`'s start-up (issue 9,
 * bench/certs.ts). Nodes keep forge's shape (tagClass, type, constructed;
 * value: the content as a binary string, or the children), so code written
 * against the forge nodes reads these alike. Pure.
 */

export interface DerNode {
  tagClass: number;
  type: number;
  constructed: boolean;
  /** Primitive: the content octets as a binary (latin1) string; constructed: the children. */
  value: string | DerNode[];
}

const tagClass = { universal: 0x00, contextSpecific: 0x80 } as const;

/** Kept for callers that load the encoder while keys are being generated: it is part of this module now. */
export function loadDerEncoder(): void {}

export const universal = { boolean: 1, integer: 2, bitString: 3, octetString: 4, null: 5, oid: 6, utf8String: 12, sequence: 16, set: 17, printableString: 19, utcTime: 23, generalizedTime: 24 } as const;

export function primitive(tag: number, content: Buffer | string): DerNode {
  return { tagClass: tagClass.universal, type: tag, constructed: false, value: binary(content) };
}

export function sequence(children: DerNode[]): DerNode {
  return { tagClass: tagClass.universal, type: universal.sequence, constructed: true, value: children };
}

/** A SET, members in the order given: every RelativeDistinguishedName here has one (more would need DER's sorting, X.690 §11.6). */
export function set(children: DerNode[]): DerNode {
  return { tagClass: tagClass.universal, type: universal.set, constructed: true, value: children };
}

/** OBJECT IDENTIFIER from dotted form (X.690 §8.19): the first two arcs in one subidentifier, base 128. */
export function objectId(dotted: string): DerNode {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new Error(`"${dotted}" is not an object identifier`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) throw new Error(`"${dotted}" is not an object identifier`);
  const octets: number[] = [];
  for (const arc of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const groups = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
    octets.push(...groups);
  }
  return primitive(universal.oid, Buffer.from(octets));
}

export const trueValue = (): DerNode => primitive(universal.boolean, Buffer.from([0xff]));
export const nullValue = (): DerNode => primitive(universal.null, Buffer.alloc(0));

/** [n] EXPLICIT: a constructed context tag around the children. */
export function explicit(n: number, children: DerNode[]): DerNode {
  return { tagClass: tagClass.contextSpecific, type: n, constructed: true, value: children };
}

/** [n] IMPLICIT on a SET or SEQUENCE: the same bytes as [n] EXPLICIT around its elements (X.690 §8.14). */
export function implicitConstructed(n: number, elements: DerNode[]): DerNode {
  return explicit(n, elements);
}

/** [n] IMPLICIT on a primitive: the content under a context tag. */
export function implicit(n: number, content: Buffer | string): DerNode {
  return { tagClass: tagClass.contextSpecific, type: n, constructed: false, value: binary(content) };
}

/** A BIT STRING of whole octets (a signature, a key). */
export function bitString(bytes: Buffer): DerNode {
  return primitive(universal.bitString, Buffer.concat([Buffer.from([0]), bytes]));
}

/** A named-bit BIT STRING (X.690 §11.2.2): trailing zero bits dropped, their count in the first octet. Bits 0–7. */
export function namedBits(bits: number[]): DerNode {
  let octet = 0;
  for (const bit of bits) octet |= 0x80 >> bit;
  let unused = 0;
  while (unused < 7 && !(octet & (1 << unused))) unused++;
  return primitive(universal.bitString, Buffer.from([unused, octet]));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), in whole seconds, always Z. */
export function time(date: Date): DerNode {
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  const year = date.getUTCFullYear();
  return year < 2050 ? primitive(universal.utcTime, `${two(year % 100)}${rest}`) : primitive(universal.generalizedTime, `${String(year).padStart(4, '0')}${rest}`);
}

/**
 * Reads DER strictly: every byte belongs to the one top-level value, lengths
 * are definite and minimal, tags are low-numbered. BIT STRINGs stay opaque, so
 * that encoding the result again gives back the same bytes. Throws on anything else.
 */
export function parse(der: Buffer): DerNode {
  const [node, end] = readNode(der, 0, 0);
  if (end !== der.length) throw new Error(`DER: ${der.length - end} bytes after the end of the value`);
  return node;
}

function readNode(der: Buffer, at: number, depth: number): [DerNode, number] {
  if (depth > 64) throw new Error('DER: nested too deeply');
  if (at + 2 > der.length) throw new Error(`DER: value cut short at byte ${at}`);
  const identifier = der[at];
  if ((identifier & 0x1f) === 0x1f) throw new Error(`DER: high tag number at byte ${at}`);
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new Error(`DER: indefinite length at byte ${at}`);
    if (count > 4 || start + count > der.length) throw new Error(`DER: length field too long at byte ${at}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    if (der[start] === 0 || length < 0x80) throw new Error(`DER: length not in its shortest form at byte ${at}`);
    start += count;
  }
  const end = start + length;
  if (end > der.length) throw new Error(`DER: value at byte ${at} runs past the end`);
  const node: DerNode = { tagClass: identifier & 0xc0, type: identifier & 0x1f, constructed: (identifier & 0x20) !== 0, value: '' };
  if (node.constructed) {
    const children: DerNode[] = [];
    for (let next = start; next < end; ) {
      const [child, after] = readNode(der, next, depth + 1);
      children.push(child);
      next = after;
    }
    node.value = children;
  } else {
    node.value = der.toString('latin1', start, end);
  }
  return [node, end];
}

export function encode(node: DerNode): Buffer {
  const content = typeof node.value === 'string' ? Buffer.from(node.value, 'latin1') : Buffer.concat(node.value.map(encode));
  if (node.type > 30) throw new Error(`DER: tag number ${node.type} needs the high-tag form, which this writer does not make`);
  return Buffer.concat([Buffer.from([node.tagClass | (node.constructed ? 0x20 : 0) | node.type]), lengthOctets(content.length), content]);
}

/** Definite length, short form below 128, else the fewest octets (X.690 §10.1). */
function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export function childrenOf(node: DerNode): DerNode[] {
  if (typeof node.value === 'string') throw new Error('DER: expected a constructed value');
  return node.value;
}

export function contentOf(node: DerNode): Buffer {
  if (typeof node.value !== 'string') throw new Error('DER: expected a primitive value');
  return Buffer.from(node.value, 'latin1');
}

export function isContextTag(node: DerNode, n?: number): boolean {
  return node.tagClass === tagClass.contextSpecific && (n === undefined || node.type === n);
}

export function dottedOid(node: DerNode): string {
  const bytes = contentOf(node);
  const values: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < bytes.length; i++) {
    value = (value << 7n) | BigInt(bytes[i] & 0x7f);
    if (!(bytes[i] & 0x80)) {
      values.push(value);
      value = 0n;
    } else if (i === bytes.length - 1) {
      throw new Error('DER: object identifier cut short');
    }
  }
  if (values.length === 0) throw new Error('DER: empty object identifier');
  const first = values[0] < 80n ? [values[0] / 40n, values[0] % 40n] : [2n, values[0] - 80n];
  return [...first, ...values.slice(1)].join('.');
}

export function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

function binary(content: Buffer | string): string {
  return typeof content === 'string' ? content : content.toString('latin1');
}
