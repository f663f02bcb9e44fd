/**
 * `pgssl enable --yes` end to end on a fresh local cluster, beside a shell
 * script doing the manual procedure (openssl one-liner, ALTER SYSTEM, sed on
 * pg_hba.conf, two reloads, one psql check), each on its own fresh cluster,
 * interleaved (21 rounds: RSA key generation time varies a lot, on both sides,
 * and an 11-round median still moved between 1.24x and 1.58x).
 * Prints both medians, the ratio, and pgssl's peak memory.
 * Aim (issue 5): ≤ 1.5x the script.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startThrowawayCluster, cleanEnv, type ThrowawayCluster } from '../src/cluster/throwaway.js';
import { median, printTable } from './measure.js';

const hba = 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n';

function manualScript(c: ThrowawayCluster): string {
  const psql = `psql -X -q -h ${c.socketDir} -p ${c.port} -U postgres -d postgres`;
  // What the blog post does, as the server's OS user would: no checks beyond one psql.
  return [
    `cd ${c.dataDir}`,
    `openssl req -new -x509 -days 365 -nodes -text -out server.crt -keyout server.key -subj "/CN=localhost" 2>/dev/null`,
    `chmod 600 server.key`,
    ...(c.osUser.switchTo ? [`chown ${c.osUser.uid}:${c.osUser.gid} server.crt server.key`] : []),
    `${psql} -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()"`,
    `sed -i 's/^host\\(\\s\\+all\\s\\+all\\s\\+0\\.0\\.0\\.0\\)/hostssl\\1/' ${c.hbaFile}`,
    `${psql} -c "SELECT pg_reload_conf()"`,
    `psql -X -At "host=127.0.0.1 port=${c.port} user=postgres dbname=postgres sslmode=require" -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" >/dev/null`,
  ].join(' && ');
}

export async function benchEnable(repoRoot: string, rounds = Number(process.env.BENCH_ROUNDS ?? 21)): Promise<void> {
  const samples = { script: [] as number[], pgssl: [] as number[] };
  const memory: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 === 0 ? (['script', 'pgssl'] as const) : (['pgssl', 'script'] as const)) {
      const cluster = await startThrowawayCluster({ hba, label: 'pgssl-bench' });
      try {
        const env = cleanEnv({ PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres', PGSSL_STATE_DIR: join(cluster.dir, 'state'), HOME: cluster.dir });
        const start = process.hrtime.bigint();
        const result =
          which === 'script'
            ? spawnSync('sh', ['-c', manualScript(cluster)], { env, stdio: ['ignore', 'ignore', 'pipe'] })
            : spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(repoRoot, 'bin', 'pgssl'), 'enable', '--yes', '--json'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (result.status !== 0) throw new Error(`${which} failed: ${result.stderr}`);
        samples[which].push(ms);
        if (which === 'pgssl') memory.push(Number(result.stderr.toString().trim().split('\n').at(-1)) / 1024);
      } finally {
        cluster.stop();
      }
    }
  }
  if (process.env.BENCH_SAMPLES) for (const [name, values] of Object.entries(samples)) console.log(`  ${name}: ${[...values].sort((a, b) => a - b).map((v) => v.toFixed(0)).join(' ')}`);
  const baseline = median(samples.script);
  printTable(`enable on a fresh cluster, median of ${rounds} interleaved runs (ratio to the manual script; aim ≤ 1.00x: every check, no slower than the manual steps without checks)`, [
    { name: 'manual script (openssl, ALTER SYSTEM, sed, 2 reloads, psql)', median: baseline, ratio: 1 },
    { name: 'pgssl enable --yes (all checks)', median: median(samples.pgssl), ratio: median(samples.pgssl) / baseline },
    { name: 'pgssl enable peak memory (max RSS)', median: median(memory), unit: 'MB' },
  ]);
}
