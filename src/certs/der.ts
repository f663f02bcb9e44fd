/**
 * DER encoding for the certificate builder, on node-forge's ASN.1 support
 * (forge cannot encode EC keys, but its ASN.1 layer encodes anything). Values
 * go in as Buffers; forge's "binary strings" stay inside this module. Loaded
 * on first use, as CommonJS and only asn1 (with util and oids): none of
 * forge's RSA, PKI, TLS or PKCS#12 code. Pure.
 */
import { createRequire } from 'node:module';
import type * as Forge from 'node-forge';

export type DerNode = Forge.asn1.Asn1;
type Asn1 = typeof Forge.asn1;

let asn1Module: Asn1 | undefined;
function asn1(): Asn1 {
  return (asn1Module ??= createRequire(import.meta.url)('node-forge/lib/asn1') as Asn1);
}

/** Loads the encoder now, e.g. while keys are still being generated. */
export function loadDerEncoder(): void {
  asn1();
}

export const universal = { boolean: 1, integer: 2, bitString: 3, octetString: 4, null: 5, oid: 6, utf8String: 12, sequence: 16, set: 17, printableString: 19, utcTime: 23, generalizedTime: 24 } as const;

export function primitive(tag: number, content: Buffer | string): DerNode {
  return asn1().create(asn1().Class.UNIVERSAL, tag, false, binary(content));
}

export function sequence(children: DerNode[]): DerNode {
  return asn1().create(asn1().Class.UNIVERSAL, universal.sequence, true, children);
}

export function set(children: DerNode[]): DerNode {
  return asn1().create(asn1().Class.UNIVERSAL, universal.set, true, children);
}

export function objectId(dotted: string): DerNode {
  return primitive(universal.oid, asn1().oidToDer(dotted).getBytes());
}

export const trueValue = (): DerNode => primitive(universal.boolean, Buffer.from([0xff]));
export const nullValue = (): DerNode => primitive(universal.null, Buffer.alloc(0));

/** [n] EXPLICIT: a constructed context tag around the children. */
export function explicit(n: number, children: DerNode[]): DerNode {
  return asn1().create(asn1().Class.CONTEXT_SPECIFIC, n, true, children);
}

/** [n] IMPLICIT on a SET or SEQUENCE: the same bytes as [n] EXPLICIT around its elements (X.690 §8.14). */
export function implicitConstructed(n: number, elements: DerNode[]): DerNode {
  return explicit(n, elements);
}

/** [n] IMPLICIT on a primitive: the content under a context tag. */
export function implicit(n: number, content: Buffer | string): DerNode {
  return asn1().create(asn1().Class.CONTEXT_SPECIFIC, n, false, binary(content));
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

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), in whole seconds. */
export function time(date: Date): DerNode {
  return date.getUTCFullYear() < 2050 ? primitive(universal.utcTime, asn1().dateToUtcTime(date)) : primitive(universal.generalizedTime, asn1().dateToGeneralizedTime(date));
}

/** Parsed without looking inside BIT STRINGs, so that encoding it again gives back the same bytes. */
export function parse(der: Buffer): DerNode {
  return asn1().fromDer(der.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false } as never);
}

export function encode(node: DerNode): Buffer {
  return Buffer.from(asn1().toDer(node).getBytes(), 'binary');
}

export function childrenOf(node: DerNode): DerNode[] {
  return node.value as DerNode[];
}

export function contentOf(node: DerNode): Buffer {
  return Buffer.from(node.value as string, 'binary');
}

export function isContextTag(node: DerNode, n?: number): boolean {
  return node.tagClass === asn1().Class.CONTEXT_SPECIFIC && (n === undefined || node.type === n);
}

export function dottedOid(node: DerNode): string {
  return asn1().derToOid(node.value as string);
}

export function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

function binary(content: Buffer | string): string {
  return typeof content === 'string' ? content : content.toString('binary');
}
