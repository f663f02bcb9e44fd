/**
 * Certificate generation as a user meets it: whole processes, each timed the
 * same way (one helper shell runs every command; see ShellTimer), interleaved
 * in the same run. `pgssl ca init` and `pgssl client-cert` beside `openssl
 * req` doing the same work with the same key type (one key and one
 * certificate, self-signed for the CA, signed by the CA for the client), the
 * blog's RSA one-liner, and `node -e 0` (Node's start: pgssl's floor).
 * Aims (issue 9): ECDSA client-cert ≤ 1.30x node -e 0 and ≤ 0.60x the blog's
 * one-liner. pgssl's client-cert does a little more than its openssl row: it
 * also writes NAME.pk8. The floor row (bench/fixtures/client-cert-floor.cjs)
 * is the least a Node program does for the same files, less than a real one:
 * what it takes above node -e 0 is Node's crypto and the work itself, which
 * no Node implementation avoids; pgssl's own cost is what it takes above the
 * floor. Run without NODE_EXTRA_CA_CERTS (bench/run.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, printTable, ShellTimer } from './measure.js';

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function benchCerts(repoRoot: string, rounds = Number(process.env.BENCH_ROUNDS ?? 21)): void {
  const dir = mkdtempSync(join(tmpdir(), 'pgssl-bench-certs-'));
  const shell = new ShellTimer();
  const node = quote(process.execPath);
  const pgssl = `${node} ${quote(join(repoRoot, 'bin', 'pgssl'))}`;
  const d = (name: string) => quote(join(dir, name));
  const ecdsa = '-newkey ec -pkeyopt ec_paramgen_curve:P-256';
  const rsa = '-newkey rsa:2048';
  let caRuns = 0;
  try {
    // The CAs the client-cert rows sign with, made once.
    shell.time(`${pgssl} ca init --dir ${d('ca-ecdsa')} && ${pgssl} ca init --dir ${d('ca-rsa')} --key-type rsa`);
    shell.time(`cd ${quote(dir)} && openssl req -x509 ${ecdsa} -nodes -keyout o-ca-ec.key -out o-ca-ec.crt -days 3650 -subj '/CN=pgssl CA/O=pgssl' && openssl req -x509 ${rsa} -nodes -keyout o-ca-rsa.key -out o-ca-rsa.crt -days 3650 -subj '/CN=pgssl CA/O=pgssl'`);
    mkdirSync(join(dir, 'out'));
    mkdirSync(join(dir, 'floor'));
    const candidates: Record<string, () => string> = {
      'node -e 0': () => `${node} -e 0`,
      // What any certificate tool on Node pays before its own code: Node's start and its crypto module.
      "node -e \"require('node:crypto')\"": () => `${node} -e "require('node:crypto')"`,
      'client-cert floor (plain Node, P-256)': () => `${node} ${quote(join(repoRoot, 'bench', 'fixtures', 'client-cert-floor.cjs'))} ${d('ca-ecdsa')} ${d('floor')}`,
      'pgssl ca init (ECDSA P-256)': () => `${pgssl} ca init --dir ${d(`ca-run-${caRuns++}`)}`,
      'openssl req -x509 CA (P-256)': () => `cd ${quote(dir)} && openssl req -x509 ${ecdsa} -nodes -keyout r-ca.key -out r-ca.crt -days 3650 -subj '/CN=pgssl CA/O=pgssl'`,
      'pgssl client-cert (ECDSA P-256)': () => `${pgssl} client-cert alice --dir ${d('ca-ecdsa')} --out-dir ${d('out')} --force`,
      'openssl req -CA client (P-256)': () => `cd ${quote(dir)} && openssl req ${ecdsa} -nodes -keyout alice.key -out alice.crt -days 397 -subj /CN=alice -CA o-ca-ec.crt -CAkey o-ca-ec.key -addext extendedKeyUsage=clientAuth`,
      'pgssl client-cert --key-type rsa': () => `${pgssl} client-cert bob --key-type rsa --dir ${d('ca-rsa')} --out-dir ${d('out')} --force`,
      'openssl req -CA client (RSA 2048)': () => `cd ${quote(dir)} && openssl req ${rsa} -nodes -keyout bob.key -out bob.crt -days 397 -subj /CN=bob -CA o-ca-rsa.crt -CAkey o-ca-rsa.key -addext extendedKeyUsage=clientAuth`,
      "blog's RSA one-liner": () => `cd ${quote(dir)} && openssl req -new -x509 -days 365 -nodes -text -out server.crt -keyout server.key -subj "/CN=db1.example.com"`,
    };
    const names = Object.keys(candidates);
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    // Rotating order: drift and the neighbours' load hit every row alike.
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length];
        samples[name].push(shell.time(candidates[name]()));
      }
    }
    if (process.env.BENCH_SAMPLES) for (const name of names) console.log(name, samples[name].map((v) => v.toFixed(0)).join(' '));
    const nodeStart = median(samples['node -e 0']);
    const blog = median(samples["blog's RSA one-liner"]);
    const floor = median(samples['client-cert floor (plain Node, P-256)']);
    printTable(
      `Certificates as whole processes, median of ${rounds} interleaved runs (ratio to node -e 0 | to the blog's RSA one-liner; aims for ECDSA client-cert: ≤ 1.30x | ≤ 0.60x)`,
      names.map((name) => {
        const m = median(samples[name]);
        return { name, median: m, ratio: m / nodeStart, note: `| ${(m / blog).toFixed(2)}x` };
      }),
    );
    const clientCert = median(samples['pgssl client-cert (ECDSA P-256)']);
    console.log(`  pgssl client-cert (ECDSA) is ${(clientCert / floor).toFixed(2)}x the floor: ${(clientCert - floor).toFixed(1)} ms of its own above what any Node program pays (${(floor - nodeStart).toFixed(1)} ms above node -e 0).`);
  } finally {
    shell.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
