/** ALTER SYSTEM statements with values quoted as SQL literals. Pure. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function alterSystemStatement(name: string, value: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`unexpected setting name "${name}"`);
  return `ALTER SYSTEM SET ${name} = ${quoteLiteral(value)}`;
}

// Additive OpenSSL cipher-list tokens (ciphers(1)) that pull in CBC, static RSA or worse.
const broadCipherToken = /(^|:)\s*\+?(HIGH|MEDIUM|LOW|ALL|DEFAULT|3DES|RC4|DES|kRSA|RSA|AES|AES128|AES256|CAMELLIA|SHA1|SHA)\s*(?=:|$)/;

/** A heuristic, not a full OpenSSL parse: true for lists like PostgreSQL's default 'HIGH:MEDIUM:+3DES:!aNULL'. */
export function isBroadCipherList(ciphers: string): boolean {
  return broadCipherToken.test(ciphers);
}

/** PostgreSQL's default still offers CBC, static RSA and 2048-bit DHE; this keeps forward secrecy and AEAD only. */
export const strictCiphers = 'ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL';

const protocolRank: Record<string, number> = { '': 0, TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3, 'TLSv1.3': 4 };

/** The stricter of what is set and what is asked: pgssl never weakens. */
export function stricterMinProtocol(current: string | undefined, wanted: string): string {
  return (protocolRank[current ?? ''] ?? 0) > (protocolRank[wanted] ?? 0) ? current! : wanted;
}
