/** Shared helpers for benchmarks: interleaved runs, medians, ratios. */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Milliseconds the command took; throws unless it exits 0 or one of `exitCodes`. */
export function timeCommand(command: string, args: string[], env?: NodeJS.ProcessEnv, exitCodes: number[] = [0]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (!exitCodes.includes(result.status ?? -1)) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
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

/**
 * Times shell commands in a helper bash that this process starts once, over
 * two FIFOs. For benchmarks that time code inside this process beside a
 * command: spawning the command from here would fork this process each time,
 * and the copy-on-write faults that follow a fork land on the in-process
 * candidate's next run, not on the command. Times are taken by the helper
 * ($EPOCHREALTIME around the command), so they exclude the round trip.
 */
export class ShellTimer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'pgssl-bench-shell-'));
  private readonly helper: ChildProcess;
  private readonly commands: number;
  private readonly results: number;
  private readonly reply = Buffer.alloc(256);

  constructor() {
    const input = join(this.dir, 'in');
    const output = join(this.dir, 'out');
    execFileSync('mkfifo', [input, output]);
    const loop = 'exec 3<"$1" 4>"$2"; while IFS= read -r line <&3; do s=$EPOCHREALTIME; eval "$line" </dev/null >/dev/null 2>&1; rc=$?; e=$EPOCHREALTIME; echo "$rc $s $e" >&4; done';
    this.helper = spawn('bash', ['-c', loop, 'bash', input, output], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
    // Opening a FIFO blocks until the other side opens it: the helper opens both.
    this.commands = openSync(input, 'w');
    this.results = openSync(output, 'r');
  }

  /** Runs the command in the helper; milliseconds it took. Throws when it fails. */
  time(command: string): number {
    writeSync(this.commands, `${command}\n`);
    let text = '';
    while (!text.endsWith('\n')) {
      const read = readSync(this.results, this.reply, 0, this.reply.length, null);
      if (read === 0) throw new Error('the shell helper exited');
      text += this.reply.toString('utf8', 0, read);
    }
    const [status, start, end] = text.trim().split(' ');
    if (status !== '0') throw new Error(`${command} exited ${status}`);
    return (Number(end) - Number(start)) * 1000;
  }

  close(): void {
    closeSync(this.commands);
    closeSync(this.results);
    this.helper.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
