/**
 * `pgssl rotate --yes` end to end, beside a shell script doing the same work
 * by hand: a new P-256 key and a certificate signed by the same CA (openssl),
 * both under new names, ALTER SYSTEM for ssl_cert_file and ssl_key_file, one
 * reload, one psql verify-full check. One cluster enabled once; the two
 * rotate it in turn (interleaved, so drift hits both alike). Prints both
 * medians and the ratio.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanEnv, startThrowawayCluster, type ThrowawayCluster } from '../src/cluster/throwaway.js';
import { interleave, median, printTable } from './measure.js';

const hba = 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n';

function manualScript(c: ThrowawayCluster, state: string, n: number): string {
  const psql = `psql -X -q -h ${c.socketDir} -p ${c.port} -U postgres -d postgres`;
  const base = join(c.dataDir, `manual-${n}`);
  return [
    `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${base}.key -out ${base}.csr -subj "/CN=localhost" 2>/dev/null`,
    `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ${base}.ext`,
    `openssl x509 -req -in ${base}.csr -CA ${state}/ca.crt -CAkey ${state}/ca.key -CAcreateserial -CAserial ${base}.srl -days 397 -sha256 -extfile ${base}.ext -out ${base}.crt 2>/dev/null`,
    `chmod 600 ${base}.key`,
    ...(c.osUser.switchTo ? [`chown ${c.osUser.uid}:${c.osUser.gid} ${base}.crt ${base}.key`] : []),
    `${psql} -c "ALTER SYSTEM SET ssl_cert_file = '${base}.crt'" -c "ALTER SYSTEM SET ssl_key_file = '${base}.key'" -c "SELECT pg_reload_conf()"`,
    `psql -X -At "host=localhost hostaddr=127.0.0.1 port=${c.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${state}/ca.crt" -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" >/dev/null`,
  ].join(' && ');
}

export async function benchRotate(repoRoot: string, rounds = 11): Promise<void> {
  const cluster = await startThrowawayCluster({ hba, label: 'pgssl-bench' });
  try {
    const state = join(cluster.dir, 'state');
    const env = cleanEnv({ PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: state, HOME: cluster.dir });
    const run = (command: string, args: string[]) => {
      const start = process.hrtime.bigint();
      const result = spawnSync(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    run(process.execPath, [join(repoRoot, 'bin', 'pgssl'), 'enable', '--yes', '--json']);
    let n = 0;
    const samples = interleave(rounds, {
      script: () => run('sh', ['-c', manualScript(cluster, state, ++n)]),
      pgssl: () => run(process.execPath, [join(repoRoot, 'bin', 'pgssl'), 'rotate', '--yes', '--json']),
    });
    if (process.env.BENCH_SAMPLES) for (const [name, values] of Object.entries(samples)) console.log(`  ${name}: ${[...values].sort((a, b) => a - b).map((v) => v.toFixed(0)).join(' ')}`);
    const baseline = median(samples.script);
    printTable(`rotate on an enabled cluster, median of ${rounds} interleaved runs (ratio to the manual script)`, [
      { name: 'manual script (openssl key+CSR+sign, 2 ALTER SYSTEM, reload, psql verify-full)', median: baseline, ratio: 1 },
      { name: 'pgssl rotate --yes (preflight, journal, served fingerprint, verify-full)', median: median(samples.pgssl), ratio: median(samples.pgssl) / baseline },
    ]);
  } finally {
    cluster.stop();
  }
}
