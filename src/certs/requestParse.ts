/**
 * Reads a certificate signing request (PKCS#10, RFC 2986) into what `pgssl
 * ca sign` judges and `pgssl cert request` compares: the signed bytes and
 * their signature, the public key, the CN, and the extensions it asks for
 * (names, basicConstraints, keyUsage, extendedKeyUsage). Reads, never
 * judges (signRequest.ts does). Pure.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseAltName } from './altNames.js';
import { oid } from './build.js';
import { childrenOf, contentOf, dottedOid, encode, isContextTag, parse, type DerNode } from './der.js';
import type { KeyUsageBit } from './extensions.js';
import { extensionRequestOid } from './request.js';

export interface ParsedRequest {
  /** certificationRequestInfo as it was signed. */
  infoDer: Buffer;
  signatureAlgorithmOid: string;
  signature: Buffer;
  spkiDer: Buffer;
  /** undefined when OpenSSL cannot read the key (keyProblem says why). */
  publicKey?: KeyObject;
  keyProblem?: string;
  commonName?: string;
  /** subjectAltName, in the request's order: "DNS:name" / "IP:address" (canonical text). */
  altNames: string[];
  /** Names of other kinds (email, URI, …), described: a server certificate cannot use them. */
  otherNames: string[];
  /** basicConstraints cA = TRUE requested. */
  asksForCa: boolean;
  keyUsage?: KeyUsageBit[];
  /** extendedKeyUsage OIDs; undefined when not requested. */
  extKeyUsage?: string[];
}

const keyUsageBits: KeyUsageBit[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
const generalNameKinds = ['otherName', 'email', 'DNS', 'x400Address', 'directoryName', 'ediPartyName', 'URI', 'IP', 'registeredID'];

/** The DER of the first "CERTIFICATE REQUEST" PEM block in `text`. Throws Error saying what is there instead. */
export function requestDerFromPem(text: string): Buffer {
  const block = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(text);
  if (!block) {
    const other = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
    throw new Error(other ? `it holds a PEM "${other[1]}", not a "CERTIFICATE REQUEST"` : 'it holds no PEM "CERTIFICATE REQUEST" block');
  }
  return Buffer.from(block[2].replace(/\s+/g, ''), 'base64');
}

/** Throws Error naming what is malformed; a request that parses may still be refused (signRequest.ts). */
export function parseSigningRequest(der: Buffer): ParsedRequest {
  let root: DerNode;
  try {
    root = parse(der);
  } catch (error) {
    throw new Error(`it is not DER-encoded ASN.1: ${(error as Error).message}`, { cause: error });
  }
  // The signature covers the DER bytes: re-encoding must give them back exactly, or what is checked is not what was signed.
  if (!encode(root).equals(der)) throw new Error('it is not in canonical DER (re-encoding changes its bytes)');
  const [info, algorithm, signatureBits] = childrenOf(root);
  if (!info || !algorithm || !signatureBits) throw new Error('it is not a PKCS#10 CertificationRequest (expected the request info, the signature algorithm and the signature)');
  const fields = childrenOf(info);
  if (fields.length < 3) throw new Error('its certificationRequestInfo lacks the subject or the public key');
  const [, subject, spki, attributes] = fields;
  const spkiDer = encode(spki);
  const parsed: ParsedRequest = {
    infoDer: encode(info),
    signatureAlgorithmOid: dottedOid(childrenOf(algorithm)[0]),
    signature: contentOf(signatureBits).subarray(1), // past the unused-bits octet
    spkiDer,
    commonName: commonNameOf(subject),
    altNames: [],
    otherNames: [],
    asksForCa: false,
  };
  try {
    parsed.publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (error) {
    parsed.keyProblem = (error as Error).message;
  }
  for (const attribute of attributes && isContextTag(attributes, 0) ? childrenOf(attributes) : []) {
    const [type, values] = childrenOf(attribute);
    if (dottedOid(type) !== extensionRequestOid) continue;
    for (const extensions of childrenOf(values)) for (const ext of childrenOf(extensions)) readExtension(ext, parsed);
  }
  return parsed;
}

function readExtension(ext: DerNode, into: ParsedRequest): void {
  const parts = childrenOf(ext);
  const id = dottedOid(parts[0]);
  const value = parse(contentOf(parts[parts.length - 1])); // extnValue: OCTET STRING holding the DER
  if (id === oid.subjectAltName) {
    const names = readGeneralNames(value);
    into.altNames.push(...names.altNames);
    into.otherNames.push(...names.otherNames);
  } else if (id === oid.basicConstraints) {
    const first = childrenOf(value)[0];
    into.asksForCa = first !== undefined && !isContextTag(first) && first.type === 1 && contentOf(first)[0] !== 0;
  } else if (id === oid.keyUsage) {
    const bytes = contentOf(value).subarray(1);
    into.keyUsage = keyUsageBits.filter((_, i) => i < bytes.length * 8 && (bytes[i >> 3] & (0x80 >> (i & 7))) !== 0);
  } else if (id === oid.extKeyUsage) {
    into.extKeyUsage = childrenOf(value).map(dottedOid);
  }
}

/** GeneralNames (RFC 5280 §4.2.1.6): dNSName and iPAddress as pgssl writes them, the other kinds described. */
export function readGeneralNames(names: DerNode): { altNames: string[]; otherNames: string[] } {
  const altNames: string[] = [];
  const otherNames: string[] = [];
  for (const name of childrenOf(names)) {
    const kind = generalNameKinds[name.type] ?? `[${name.type}]`;
    if (kind === 'DNS' && !name.constructed) altNames.push(`DNS:${contentOf(name).toString('latin1')}`);
    else if (kind === 'IP' && !name.constructed && (contentOf(name).length === 4 || contentOf(name).length === 16)) altNames.push(`IP:${ipText(contentOf(name))}`);
    else otherNames.push(name.constructed ? kind : `${kind}:${contentOf(name).toString('latin1')}`);
  }
  return { altNames, otherNames };
}

/** The subjectAltName entries of a certificate (DER), as readGeneralNames gives them; [] without the extension. */
export function certificateAltNames(certificateDer: Buffer): string[] {
  const tbs = childrenOf(childrenOf(parse(certificateDer))[0]);
  const extensions = tbs.find((field) => isContextTag(field, 3));
  for (const ext of extensions ? childrenOf(childrenOf(extensions)[0]) : []) {
    const parts = childrenOf(ext);
    if (dottedOid(parts[0]) === oid.subjectAltName) return readGeneralNames(parse(contentOf(parts[parts.length - 1]))).altNames;
  }
  return [];
}

/** "DNS:Db1.Example.com" → "DNS:db1.example.com", "IP:0:0::1" → "IP:::1": one spelling per name, for comparing lists. */
export function canonicalAltName(entry: string): string {
  const name = parseAltName(entry);
  return name.kind === 'DNS' ? `DNS:${name.name.toLowerCase()}` : `IP:${ipText(name.bytes)}`;
}

/** The same names, whatever their order and spelling. */
export function sameAltNames(a: string[], b: string[]): boolean {
  const sorted = (list: string[]) => [...new Set(list.map(canonicalAltName))].sort().join('\n');
  return sorted(a) === sorted(b);
}

/** The --json shape of a list of names: { dns: [...], ip: [...] }, each in the list's order. */
export function namesByKind(altNames: string[]): { dns: string[]; ip: string[] } {
  const pick = (prefix: string) => altNames.filter((entry) => entry.startsWith(prefix)).map((entry) => entry.slice(prefix.length));
  return { dns: pick('DNS:'), ip: pick('IP:') };
}

/** Dotted IPv4, or IPv6 as RFC 5952 writes it (WHATWG's URL parser serializes it so). */
function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function commonNameOf(subject: DerNode): string | undefined {
  for (const rdn of childrenOf(subject)) {
    for (const attribute of childrenOf(rdn)) {
      const [type, value] = childrenOf(attribute);
      // UTF8String, PrintableString, IA5String: their bytes are the name's UTF-8 (BMPString and the like are left out, not misread).
      if (dottedOid(type) === oid.commonName && [12, 19, 22].includes(value.type)) return contentOf(value).toString('utf8');
    }
  }
  return undefined;
}
