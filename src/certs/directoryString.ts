/**
 * How a name goes into a certificate (RFC 5280 §4.1.2.4 DirectoryString):
 * PrintableString only when every character is in its alphabet, UTF8String
 * otherwise, and in both cases the bytes are the name's UTF-8 bytes exactly.
 * PostgreSQL's cert authentication compares the CN with the role name byte for
 * byte: a CN of "alice" for the role "šlice" logs in as alice. Pure.
 */

// X.680 §41.4: A–Z a–z 0–9 space ' ( ) + , - . / : = ?  — no _, @, *, &, non-ASCII.
const printableAlphabet = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type DirectoryStringKind = 'printable' | 'utf8';

export interface DirectoryString {
  kind: DirectoryStringKind;
  /** The content octets: the name's UTF-8 encoding (ASCII for PrintableString). */
  bytes: Buffer;
}

/** Throws Error (a caller turns it into a UsageError naming the flag) for a name no certificate can carry exactly. */
export function directoryString(name: string): DirectoryString {
  // A lone surrogate would be written as U+FFFD: the certificate would name someone else.
  if (loneSurrogate.test(name)) throw new Error(`the name ${JSON.stringify(name)} is not valid Unicode (a lone surrogate); it cannot be written byte for byte`);
  if (name.includes('\0')) throw new Error(`the name ${JSON.stringify(name)} contains a NUL character, which no PostgreSQL role name or host name can hold`);
  return { kind: printableAlphabet.test(name) ? 'printable' : 'utf8', bytes: Buffer.from(name, 'utf8') };
}
