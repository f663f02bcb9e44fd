/**
 * The X.509 extension Node's X509Certificate does not expose: the keyUsage
 * bits (its `keyUsage` property is the extendedKeyUsage OIDs). A minimal DER
 * walk over the certificate (RFC 5280 §4.1), enough to find the extensions;
 * what it cannot read is reported as unknown, never guessed. Pure.
 */

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** One DER element at `offset`: its tag and where its content starts and ends. */
function readTlv(der: Uint8Array, offset: number): Tlv {
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i];
    start += bytes;
  }
  const end = start + length;
  if (tag === undefined || end > der.length) throw new Error('truncated DER');
  return { tag, start, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const list: Tlv[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readTlv(der, offset);
    list.push(child);
    offset = child.end;
  }
  return list;
}

const keyUsageOid = '551d0f'; // 2.5.29.15

const hex = (der: Uint8Array, tlv: Tlv) => Buffer.from(der.subarray(tlv.start, tlv.end)).toString('hex');

/** The extnValue (inner DER) of each extension, by OID in hex. */
function extensionValues(der: Uint8Array): Map<string, Tlv> {
  const values = new Map<string, Tlv>();
  const certificate = readTlv(der, 0);
  const tbs = children(der, certificate)[0];
  // extensions are [3] EXPLICIT, the last field of TBSCertificate (v3 only).
  const tagged = children(der, tbs).find((field) => field.tag === 0xa3);
  if (!tagged) return values;
  const list = children(der, tagged)[0];
  for (const extension of children(der, list)) {
    const parts = children(der, extension);
    const value = parts.at(-1)!; // OCTET STRING after the OID and the optional critical flag
    values.set(hex(der, parts[0]), readTlv(der, value.start));
  }
  return values;
}

export type KeyUsageBit = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';
const keyUsageBits: KeyUsageBit[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

/**
 * The keyUsage bits; undefined when the certificate has no keyUsage extension
 * (any use allowed); 'unreadable' when the DER walk failed.
 */
export function readKeyUsage(der: Uint8Array): KeyUsageBit[] | undefined | 'unreadable' {
  let usage: Tlv | undefined;
  try {
    usage = extensionValues(der).get(keyUsageOid);
  } catch {
    return 'unreadable';
  }
  if (!usage) return undefined;
  if (usage.tag !== 0x03) return 'unreadable';
  // BIT STRING: the first content byte counts unused bits; bit 0 is the first byte's top bit.
  const bytes = der.subarray(usage.start + 1, usage.end);
  return keyUsageBits.filter((_, i) => i < bytes.length * 8 && (bytes[i >> 3] & (0x80 >> (i & 7))) !== 0);
}
