/**
 * Cold start: `pgssl --version` and `pgssl status --help` beside `node -e 0`,
 * interleaved in the same run. Aim: ≤ 1.3x node -e 0 (a command loads only
 * what it uses).
 */
import { join } from 'node:path';
import { interleave, median, printTable, timeCommand } from './measure.js';

export function benchStartup(repoRoot: string, rounds = 31): void {
  const bin = join(repoRoot, 'bin', 'pgssl');
  const node = process.execPath;
  const samples = interleave(rounds, {
    'node -e 0': () => timeCommand(node, ['-e', '0']),
    'pgssl --version': () => timeCommand(node, [bin, '--version']),
    'pgssl status --help': () => timeCommand(node, [bin, 'status', '--help']),
  });
  const baseline = median(samples['node -e 0']);
  printTable(
    `Cold start, median of ${rounds} interleaved runs (ratio to node -e 0; aim ≤ 1.30x)`,
    Object.entries(samples).map(([name, values]) => ({ name, median: median(values), ratio: median(values) / baseline })),
  );
}
