/**
 * Whether a certificate can serve as a PostgreSQL server certificate for
 * every client: its purpose (extendedKeyUsage, basicConstraints, keyUsage),
 * its key type and size, and its names. Each problem says which clients
 * refuse it and what to do instead. Pure.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { readKeyUsage } from './extensions.js';
import type { CertProblem } from './inspect.js';
import { isSelfSigned } from './x509.js';

const serverAuth = '1.3.6.1.5.5.7.3.1';
const ekuNames: Record<string, string> = {
  [serverAuth]: 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** Curves every libpq, pgJDBC, Npgsql, node-pg and Go client negotiates. */
const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
const curveNames: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export interface KeyDescription {
  type: string;
  bits?: number;
  /** NIST name (P-256) or OpenSSL's name of an EC key's curve. */
  curve?: string;
}

export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails;
  if (type === 'ec') {
    const curve = details?.namedCurve;
    return { type, bits: curve ? curveBits[curve] : undefined, curve: curve ? (curveNames[curve] ?? curve) : undefined };
  }
  if (type === 'ed25519') return { type, bits: 256 };
  if (type === 'ed448') return { type, bits: 456 };
  return { type, bits: details?.modulusLength };
}

const suitableKeyFix = 'Use an ECDSA P-256 certificate (what `pgssl enable` issues) or RSA with at least 2048 bits, e.g. openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 …';

/** The key-type rule, shared by the certificate check and `cert inspect`. */
export function serverKeyProblems(key: KeyObject, path: string): CertProblem[] {
  const { type, bits, curve } = describeKey(key);
  const problem = (message: string): CertProblem[] => [{ id: 'KEY_TYPE_UNSUITABLE', severity: 'error', file: path, message: `${path}: ${message}`, fix: suitableKeyFix }];
  if (type === 'rsa' || type === 'rsa-pss') {
    // OpenSSL at security level 2 (Debian's and most distributions' default) refuses shorter keys.
    return bits !== undefined && bits < 2048 ? problem(`an RSA key of ${bits} bits is too weak: OpenSSL clients at security level 2 refuse keys shorter than 2048 bits`) : [];
  }
  if (type === 'ec') {
    return bits === undefined ? problem(`the EC curve ${curve ?? '(unnamed)'} is not one every client supports (P-256, P-384, P-521)`) : [];
  }
  if (type === 'ed25519' || type === 'ed448') {
    // Measured with psql against a server with an Ed25519 or Ed448 certificate and scram-sha-256 over TCP
    // (test/integration/cert-refusal.test.ts): libpq's tls-server-end-point channel binding hashes the
    // certificate with its signature's digest, and EdDSA has none.
    return problem(
      `an ${type === 'ed25519' ? 'Ed25519' : 'Ed448'} certificate: psql and every libpq client that logs in with SCRAM over TLS fail with "could not find digest for NID UNDEF" (channel binding cannot hash an EdDSA certificate); they connect only with channel_binding=disable, which gives up the protection channel binding exists for`,
    );
  }
  return problem(`a ${type.toUpperCase()} key cannot serve TLS to PostgreSQL clients`);
}

/** Problems of `cert` as the server's own certificate (the first one in ssl_cert_file). */
export function serverCertificateProblems(cert: X509Certificate, path: string): CertProblem[] {
  const problems: CertProblem[] = [...serverKeyProblems(cert.publicKey, path)];
  // Node's X509Certificate.keyUsage holds the extendedKeyUsage OIDs (undefined: no such extension).
  const eku = cert.keyUsage;
  if (eku && !eku.includes(serverAuth)) {
    const names = eku.map((o) => ekuNames[o] ?? o).join(', ');
    problems.push({
      id: 'NOT_A_SERVER_CERT',
      severity: 'error',
      file: path,
      message: `${path}: its extendedKeyUsage is ${names}, without serverAuth: libpq refuses it whenever it verifies the server (verify-ca, verify-full, or require with a root certificate: "SSL error: certificate verify failed"), and so do Go and pgJDBC${eku.includes('1.3.6.1.5.5.7.3.2') ? ' (this is a client certificate)' : ''}`,
      fix: 'Give the server certificate (extendedKeyUsage serverAuth, or none) with --cert-file, or let `pgssl enable` issue one.',
    });
  }
  const keyType = cert.publicKey.asymmetricKeyType;
  const read = readKeyUsage(cert.raw);
  const usage = read === 'unreadable' ? undefined : read; // unreadable: OpenSSL parsed it, so judge by the rest
  // ECDHE and TLS 1.3 sign the handshake (digitalSignature); static RSA key exchange encrypts to the key (keyEncipherment).
  const usable = !usage || usage.includes('digitalSignature') || ((keyType === 'rsa' || keyType === 'rsa-pss') && usage.includes('keyEncipherment'));
  if (!usable) {
    problems.push({
      id: 'NOT_A_SERVER_CERT',
      severity: 'error',
      file: path,
      message: `${path}: its keyUsage is ${usage!.join(', ') || '(empty)'}, without digitalSignature${keyType === 'rsa' ? ' or keyEncipherment' : ''}: it cannot sign a TLS handshake, and verifying clients refuse it`,
      fix: 'Give the server certificate (keyUsage digitalSignature) with --cert-file, not a CA certificate, or let `pgssl enable` issue one.',
    });
  }
  if (cert.ca) {
    const selfSigned = isSelfSigned(cert);
    // `openssl req -x509` (the recipe in PostgreSQL's documentation) marks its certificate CA:TRUE.
    // libpq accepts that as its own root; webpki (rustls) and Python cryptography do not.
    const docsRecipe = selfSigned && usable;
    problems.push({
      id: 'NOT_A_SERVER_CERT',
      severity: docsRecipe ? 'warning' : 'error',
      file: path,
      message: docsRecipe
        ? `${path}: a self-signed certificate marked as a CA (basicConstraints CA:TRUE, what openssl req -x509 makes by default): libpq accepts it, but rustls-based clients and Python cryptography refuse a CA certificate as the server's`
        : `${path}: a CA certificate (basicConstraints CA:TRUE), not a server certificate: the CA's file was probably given instead of the server's`,
      fix: docsRecipe
        ? 'Re-issue it with -addext basicConstraints=critical,CA:FALSE, or let `pgssl enable` issue one from its own CA.'
        : 'Give the server certificate (CA:FALSE) with --cert-file and this CA with --ca-file.',
    });
  }
  if (cert.subjectAltName === undefined) {
    problems.push({
      id: 'NO_SUBJECT_ALT_NAME',
      severity: 'warning',
      file: path,
      message: `${path}: no subjectAltName extension, only a CN: libpq accepts the CN, but clients that ignore it under verify-full (Go, pgJDBC, rustls-based) refuse this certificate`,
      fix: 'Issue a certificate that lists every host name and address in subjectAltName (pgssl enable --san …).',
    });
  }
  return problems;
}
