/**
 * Cold start: `pgssl --version` and `pgssl status --help` beside `node -e 0`,
 * interleaved in the same run. Aim: ≤ 1.3x node -e 0 (a command loads only
 * what it uses). When `npm run build:sea` has made dist/pgssl-linux-x64, the
 * single executable beside bin/pgssl (the npm layout: node, bin/pgssl, the
 * bundles, node_modules): --version, and `status` against a throwaway
 * cluster (exit 3: TLS is off there), in the same rounds.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, startThrowawayCluster, type ThrowawayCluster } from '../src/cluster/throwaway.js';
import { interleave, median, printTable, timeCommand } from './measure.js';

export async function benchStartup(repoRoot: string, rounds = 31): Promise<void> {
  const bin = join(repoRoot, 'bin', 'pgssl');
  const sea = join(repoRoot, 'dist', 'pgssl-linux-x64');
  const node = process.execPath;
  const candidates: Record<string, () => number> = {
    'node -e 0': () => timeCommand(node, ['-e', '0']),
    'pgssl --version': () => timeCommand(node, [bin, '--version']),
    'pgssl status --help': () => timeCommand(node, [bin, 'status', '--help']),
  };
  let cluster: ThrowawayCluster | undefined;
  if (existsSync(sea)) {
    cluster = await startThrowawayCluster({ label: 'pgssl-bench' });
    const env = cleanEnv({ PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres' });
    Object.assign(candidates, {
      'pgssl-linux-x64 --version': () => timeCommand(sea, ['--version']),
      'pgssl status (TLS off: exit 3)': () => timeCommand(node, [bin, 'status'], env, [3]),
      'pgssl-linux-x64 status (exit 3)': () => timeCommand(sea, ['status'], env, [3]),
    });
  } else {
    console.log(`\n(no ${sea}: npm run build:sea makes it; the single executable's rows are left out)`);
  }
  try {
    const samples = interleave(rounds, candidates);
    const baseline = median(samples['node -e 0']);
    printTable(
      `Cold start, median of ${rounds} interleaved runs (ratio to node -e 0; aim ≤ 1.30x)${existsSync(sea) ? `; the single executable is ${(statSync(sea).size / 1e6).toFixed(1)} MB` : ''}`,
      Object.entries(samples).map(([name, values]) => ({ name, median: median(values), ratio: median(values) / baseline })),
    );
  } finally {
    cluster?.stop();
  }
}
