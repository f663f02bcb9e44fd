/**
 * CA + server certificate generation (keys generated concurrently) beside a
 * script running `openssl req -x509 -newkey rsa:2048` twice (CA and server),
 * interleaved, many runs: RSA key generation time varies a lot.
 * Aim (issue 4): ≤ 0.8x the openssl script.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCaCertificate, buildServerCertificate } from '../src/certs/build.js';
import { generateRsaKeyPair } from '../src/certs/keys.js';
import { median, printTable, timeCommand } from './measure.js';

async function pgsslGeneration(): Promise<number> {
  const start = process.hrtime.bigint();
  const [caKeys, serverKeys] = await Promise.all([generateRsaKeyPair(2048), generateRsaKeyPair(2048)]);
  const ca = { certificatePem: buildCaCertificate({ commonName: 'bench CA', days: 3650, keys: caKeys }), privateKeyPem: caKeys.privateKeyPem };
  buildServerCertificate({ commonName: 'db1', subjectAltNames: ['db1', 'localhost', '127.0.0.1'], days: 397, keys: serverKeys }, ca);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function benchCerts(rounds = 25): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pgssl-bench-certs-'));
  const script = `cd ${dir} && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=ca 2>/dev/null && openssl req -x509 -newkey rsa:2048 -nodes -keyout s.key -out s.crt -days 397 -subj /CN=db1 2>/dev/null`;
  const samples = { openssl: [] as number[], pgssl: [] as number[] };
  try {
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        samples.openssl.push(timeCommand('sh', ['-c', script]));
        samples.pgssl.push(await pgsslGeneration());
      } else {
        samples.pgssl.push(await pgsslGeneration());
        samples.openssl.push(timeCommand('sh', ['-c', script]));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const baseline = median(samples.openssl);
  printTable(`CA + server certificate, RSA 2048, median of ${rounds} interleaved runs (ratio to the openssl script; aim ≤ 0.80x)`, [
    { name: 'openssl req -x509 -newkey ×2', median: baseline, ratio: 1 },
    { name: 'pgssl (2 keys in parallel)', median: median(samples.pgssl), ratio: median(samples.pgssl) / baseline },
  ]);
}
