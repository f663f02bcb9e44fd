/**
 * rotate's plan, decided before anything changes: what the server serves now
 * (a real handshake, not the files on disk), whether that is due, and the
 * new pair — issued by the same CA (pgssl's, or --ca-cert/--ca-key) with the
 * names of the certificate in force plus those found now and --san, or the
 * DBA's own files, validated as enable validates them — under new names, with
 * the two settings that point the server at it.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { caFilesIn, issueWithCa, readCa } from '../../certs/authority.js';
import type { Issuer } from '../../certs/build.js';
import { prepareExistingFiles } from '../../certs/existing.js';
import { covers } from '../../certs/inspect.js';
import { settingPath, type PlannedTlsFile } from '../../certs/install.js';
import { describeKeySpec, type KeySpec } from '../../certs/keys.js';
import { commonNameFor, defaultServerNames } from '../../certs/names.js';
import { readPrivateKey } from '../../certs/x509.js';
import { OperationalError, UsageError } from '../../errors.js';
import { alterSystemStatement } from '../../server/settings.js';
import { probeTls } from '../../server/tlsProbe.js';
import type { Preflight } from '../preflight.js';
import type { SettingChange } from '../tlsSettings.js';
import { absoluteSettingPath } from '../undo.js';
import { commonNameOf, keySpecOfCertificate, namesForNewCertificate, newPairPaths, pairAlreadyInForce, type PairPaths } from './decide.js';
import type { RotateOptions } from './options.js';

type LocalHostNames = { hostname: string; fqdn?: string; interfaceAddresses: string[] };

/** The certificate the server serves right now, from a fresh handshake. */
export interface Served {
  certificate: X509Certificate;
  certificatePem: string;
  fingerprint: string;
  notAfter: Date;
}

/** The files the configuration in force names (absolute). */
export interface InForce extends PairPaths {
  caPath?: string;
}

export interface RotatePlan {
  served: Served;
  inForce: InForce;
  description: string;
  names: string[];
  notAfter: string;
  /** Absent in a dry run: no key is made for a plan that is only shown. */
  certificatePem?: string;
  files: PlannedTlsFile[];
  settings: SettingChange[];
  /** The CA file clients already have: the new certificate must verify against it, with the host name. */
  trustPem: string;
  trustFile?: string;
  verifyName: string;
  checkHostName: boolean;
  /** One line each: what the DBA should know before the swap. */
  warnings: string[];
  /** --cert-file/--key-file are the pair in force and served (pairAlreadyInForce): nothing to do. */
  alreadyInForce: boolean;
}

/** Asks the server for TLS and reads what it serves; throws OperationalError (exit 1: could not check) when it serves nothing. */
export async function observeServed(pre: Preflight, connectHost: string): Promise<Served> {
  if (pre.facts.settings.ssl?.value !== 'on') {
    throw new OperationalError('ssl = off on this server: there is no certificate in force to rotate or check. Nothing was changed. pgssl enable turns TLS on (with a new certificate).');
  }
  const probe = await probeTls({ host: connectHost, port: pre.port });
  if (!probe.accepted || !probe.chainDer[0]) {
    throw new OperationalError(`could not read the certificate the server serves: a TLS handshake with ${connectHost}:${pre.port} failed (${probe.accepted ? 'no certificate sent' : probe.reason}). Nothing was changed. pgssl status says why TLS does not work; fix that first (or run pgssl enable).`);
  }
  const certificate = new X509Certificate(probe.chainDer[0]);
  return { certificate, certificatePem: certificate.toString(), fingerprint: createHash('sha256').update(probe.chainDer[0]).digest('hex'), notAfter: new Date(certificate.validTo) };
}

export function filesInForce(pre: Preflight): InForce {
  const path = (name: string) => {
    const value = pre.facts.settings[name]?.value;
    return value ? absoluteSettingPath(value, pre.dataDirectory) : undefined;
  };
  // PostgreSQL's defaults (server.crt / server.key in the data directory) when the settings are empty.
  return { certPath: path('ssl_cert_file') ?? absoluteSettingPath('server.crt', pre.dataDirectory), keyPath: path('ssl_key_file') ?? absoluteSettingPath('server.key', pre.dataDirectory), caPath: path('ssl_ca_file') };
}

export interface PlanInput {
  pre: Preflight;
  options: RotateOptions;
  stateDir: string;
  connectHost: string;
  served: Served;
  host: LocalHostNames;
  /** --san and the wizard's extra names. */
  extraNames: string[];
  now: Date;
}

export async function planRotate(input: PlanInput): Promise<RotatePlan> {
  const { pre, options, served } = input;
  const inForce = filesInForce(pre);
  const found = defaultServerNames({ ...input.host, listenAddresses: pre.listen.addresses ?? undefined, extra: input.extraNames });
  const names = namesForNewCertificate(served.certificate, found);
  const hosts = names.map((n) => n.replace(/^(DNS|IP):/, ''));
  const paths = newPairPaths(inForce, input.now, existsSync, options.certDir);
  const source = options.source ?? { kind: 'new-ca' };
  let pair: { certificatePem?: string; privateKeyPem?: string };
  let trust: { pem: string; file?: string };
  let description: string;
  let notAfter = new Date(input.now.getTime() + options.days * 86_400_000).toISOString();
  const warnings: string[] = [];
  let alreadyInForce = false;

  if (source.kind === 'files') {
    const encrypted = readKeyIfReadable(source.keyFile)?.kind === 'encrypted';
    if (encrypted) checkPassphraseReload(pre, source.keyFile);
    const prepared = prepareExistingFiles({ ...source, hosts: hosts.filter((h) => h === input.connectHost || h === 'localhost'), allowNameMismatch: options.allowNameMismatch, passphraseCommand: Boolean(pre.facts.settings.ssl_passphrase_command?.value) });
    warnings.push(...prepared.warnings.map((w) => `${w.id}: ${w.message}`));
    const cert = new X509Certificate(prepared.contents.certificatePem);
    pair = prepared.contents;
    alreadyInForce = pairAlreadyInForce(prepared.contents, { certText: readIfReadable(inForce.certPath), keyText: readIfReadable(inForce.keyPath) }, served.fingerprint);
    notAfter = new Date(cert.validTo).toISOString();
    trust = trustForFiles(prepared.contents, inForce, source.caFile);
    if (trust.file && !issuedBy(served.certificate, trust.pem)) {
      warnings.push(`NEW_ISSUER: the certificate in force was not issued by ${trust.file}: clients that trust only the current issuer will refuse the new one; give them ${trust.file} (sslrootcert)`);
    }
    description = `your files ${source.certFile} and ${source.keyFile}${source.caFile ? ` (CA ${source.caFile})` : ''}`;
  } else {
    if (source.kind === 'self-signed') throw new UsageError('pgssl rotate keeps the issuer clients already trust: use pgssl\'s CA (the default), --ca-cert/--ca-key, or --cert-file/--key-file; nothing was changed.');
    const caFiles = source.kind === 'ca' ? { certPath: source.caCert, keyPath: source.caKey } : caFilesIn(input.stateDir);
    if (source.kind === 'new-ca' && !existsSync(caFiles.certPath)) {
      throw new UsageError(`pgssl's CA is not in ${input.stateDir} (no ca.crt), so there is no "same CA" to issue the new certificate from; nothing was changed. Give the CA that issued the certificate in force with --ca-cert/--ca-key, or your own pair with --cert-file/--key-file (PGSSL_STATE_DIR names another state folder).`);
    }
    const ca: Issuer = readCa(caFiles);
    if (!issuedBy(served.certificate, ca.certificatePem)) {
      throw new UsageError(
        `the certificate the server serves (${oneLine(served.certificate.subject)}, issued by ${oneLine(served.certificate.issuer)}) was not issued by ${caFiles.certPath}, so clients that verify it today would refuse one from that CA; nothing was changed. Give the CA that issued it with --ca-cert/--ca-key, or your own pair with --cert-file/--key-file [--ca-file].`,
      );
    }
    trust = { pem: ca.certificatePem, file: caFiles.certPath };
    const key: KeySpec = options.key ?? keySpecOfCertificate(served.certificate);
    description = `a new certificate signed by ${source.kind === 'ca' ? source.caCert : `pgssl's CA in ${input.stateDir}`} (${describeKeySpec(key)}, ${options.days} days)`;
    pair = options.dryRun ? {} : await issueWithCa(ca, { commonName: commonNameOf(served.certificate) ?? commonNameFor(input.host), subjectAltNames: names, days: options.days, key });
  }

  const files: PlannedTlsFile[] = [
    { role: 'cert', setting: 'ssl_cert_file', path: paths.certPath, settingValue: settingPath(paths.certPath, pre.dataDirectory), content: pair.certificatePem ?? '(new)', mode: 0o644 },
    { role: 'key', setting: 'ssl_key_file', path: paths.keyPath, settingValue: settingPath(paths.keyPath, pre.dataDirectory), content: pair.privateKeyPem ?? '(new)', mode: 0o600 },
  ];
  // Both settings are set with nothing in between and take effect in one reload (see steps.ts).
  const settings = files.map((f) => ({ name: f.setting, before: pre.facts.settings[f.setting]?.value, after: f.settingValue, sql: alterSystemStatement(f.setting, f.settingValue) }));
  const verifyName = pickVerifyName(pair.certificatePem, input.connectHost, hosts);
  return {
    served,
    inForce,
    description,
    names: source.kind === 'files' && pair.certificatePem ? (new X509Certificate(pair.certificatePem).subjectAltName ?? '').split(/,\s*/).filter(Boolean) : names,
    notAfter,
    certificatePem: pair.certificatePem,
    files,
    settings,
    trustPem: trust.pem,
    trustFile: trust.file,
    verifyName,
    checkHostName: !(options.allowNameMismatch && pair.certificatePem !== undefined && !covers(new X509Certificate(pair.certificatePem), verifyName)),
    warnings,
    alreadyInForce,
  };
}

function readIfReadable(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL reloads a passphrase-protected key only when it may run
 * ssl_passphrase_command again at a reload (be-secure-openssl.c): otherwise
 * it logs an error and keeps the old pair. Say so before any change.
 */
function checkPassphraseReload(pre: Preflight, keyFile: string): void {
  const settings = pre.facts.settings;
  if (!settings.ssl_passphrase_command?.value) return; // prepareExistingFiles refuses it with its own fix
  if (settings.ssl_passphrase_command_supports_reload?.value === 'on') return;
  throw new UsageError(
    `${keyFile} is passphrase-protected, and with ssl_passphrase_command_supports_reload = off PostgreSQL cannot load it at a reload (it would keep serving the old certificate); nothing was changed. Set ssl_passphrase_command_supports_reload = on (ALTER SYSTEM, then reload) if your ssl_passphrase_command can run without a terminal, or give a key without a passphrase (openssl pkey -in ${keyFile} -out server.key, mode 0600).`,
  );
}

function readKeyIfReadable(path: string): ReturnType<typeof readPrivateKey> | undefined {
  try {
    return readPrivateKey(readFileSync(path, 'utf8'));
  } catch {
    return undefined; // prepareExistingFiles reports the unreadable file
  }
}

/** What verifies the DBA's new certificate: --ca-file, else the ssl_ca_file in force when it does, else the certificate itself. */
function trustForFiles(contents: { certificatePem: string; caCertificatePem?: string }, inForce: InForce, caFile: string | undefined): { pem: string; file?: string } {
  if (contents.caCertificatePem) return { pem: contents.caCertificatePem, file: caFile };
  if (inForce.caPath && existsSync(inForce.caPath)) {
    const pem = readFileSync(inForce.caPath, 'utf8');
    if (issuedBy(new X509Certificate(contents.certificatePem), pem)) return { pem, file: inForce.caPath };
  }
  return { pem: contents.certificatePem };
}

/** Signed by (one of) the CA certificates in `caPem`. */
export function issuedBy(cert: X509Certificate, caPem: string): boolean {
  const blocks = caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.some((block) => {
    try {
      const ca = new X509Certificate(block);
      return cert.checkIssued(ca) && cert.verify(ca.publicKey);
    } catch {
      return false;
    }
  });
}

/** The name a verify-full client uses for this certificate: the one pgssl connects with when it covers it, else localhost or a name of its own. */
export function pickVerifyName(certificatePem: string | undefined, connectHost: string, hosts: string[]): string {
  if (!certificatePem) return connectHost;
  const cert = new X509Certificate(certificatePem);
  return [connectHost, 'localhost', ...hosts].find((name) => covers(cert, name)) ?? connectHost;
}

function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}
