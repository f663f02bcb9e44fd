/** Shared helpers for benchmarks: interleaved runs, medians, ratios. */
import { spawnSync } from 'node:child_process';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function timeCommand(command: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
  return ms;
}

/** Runs each candidate once per round, in rotating order, so drift hits all alike. */
export function interleave(rounds: number, candidates: Record<string, () => number>): Record<string, number[]> {
  const names = Object.keys(candidates);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      samples[name].push(candidates[name]());
    }
  }
  return samples;
}

export function printTable(title: string, rows: { name: string; median: number; unit?: string; ratio?: number; note?: string }[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const row of rows) {
    const ratio = row.ratio === undefined ? '' : `  ${row.ratio.toFixed(2)}x`;
    console.log(`  ${row.name.padEnd(width)}  ${row.median.toFixed(1).padStart(8)} ${row.unit ?? 'ms'}${ratio}${row.note ? `  ${row.note}` : ''}`);
  }
}
