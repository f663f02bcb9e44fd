/**
 * Strict X.509 parsers beside OpenSSL: Go's crypto/x509 (x509check/main.go,
 * standard library only, run with `go run` offline) and Python cryptography
 * (x509check.py, Debian's /usr/bin/python3 with python3-cryptography). Each
 * gets a batch of checks and reports what it parsed and verified; the tests
 * decide. `skip` says why a parser is missing (CI installs both: .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './pgbin.js';

export interface Check {
  cert: string;
  root?: string;
  /** ca: verify as a trust anchor (Go: any usage; Python: by signature). */
  usage?: 'server' | 'client' | 'ca';
  hosts?: string[];
}

export interface NameValue {
  oid: string;
  /** 19 PrintableString, 12 UTF8String. */
  tag: number;
  hex: string;
}

export interface ParserReport {
  parseError: string | null;
  subject: NameValue[];
  issuerMatchesRoot?: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  keyUsage: string[];
  extKeyUsage: string[];
  basicConstraintsValid: boolean;
  isCA: boolean;
  signatureAlgorithm: string;
  chainError: string | null;
  /** Host name → null when it verified, else the error. Python fills it only with its verifier (cryptography 42+). */
  hostErrors: Record<string, string | null>;
  /** Python only: cryptography.x509.verification is there. */
  verifier?: boolean;
}

export interface StrictParser {
  name: string;
  /** Why it cannot run here; undefined when it can. */
  skip: string | undefined;
  run(checks: Check[]): ParserReport[];
}

const supportDir = join(repoRoot, 'test', 'support');

function runJson(command: string, args: string[], checks: Check[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ParserReport[] {
  const result = spawnSync(command, args, { input: JSON.stringify(checks), encoding: 'utf8', timeout: 180_000, ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}${result.error ?? ''}`);
  return JSON.parse(result.stdout) as ParserReport[];
}

export function goParser(): StrictParser {
  const version = spawnSync('go', ['version'], { encoding: 'utf8' });
  return {
    name: 'Go crypto/x509',
    skip: version.status === 0 ? undefined : 'go is not installed (Debian package golang-go; .ci/run installs it)',
    run(checks) {
      // Offline and leaving nothing behind: no module proxy, a build cache of our own, removed after.
      const cache = mkdtempSync(join(tmpdir(), 'pgssl-gocache-'));
      try {
        return runJson('go', ['run', '.'], checks, { cwd: join(supportDir, 'x509check'), env: { PATH: process.env.PATH, HOME: cache, GOCACHE: cache, GOPATH: join(cache, 'gopath'), GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' } });
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    },
  };
}

export function pythonParser(): StrictParser {
  // Debian's interpreter and its python3-cryptography, not whatever python3 comes first on PATH.
  const python = process.env.PGSSL_TEST_PYTHON ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import cryptography; print(cryptography.__version__)'], { encoding: 'utf8' });
  return {
    name: `Python cryptography ${probe.stdout?.trim() ?? ''}`.trim(),
    skip: probe.status === 0 ? undefined : `${python} cannot import cryptography (Debian package python3-cryptography; .ci/run installs it)`,
    run(checks) {
      return runJson(python, [join(supportDir, 'x509check.py')], checks, { env: { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1' } });
    },
  };
}
