/** Runs the built CLI the way a user does: a child process, real argv, real exit code. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './pgbin.js';

export const pgsslBin = join(repoRoot, 'bin', 'pgssl');

export interface CliResult {
  code: number | null;
  /** The signal that ended it (SIGKILL in crash tests), when it did not exit by itself. */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runPgssl(args: string[], options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [pgsslBin, ...args], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export function parseJsonOutput(result: CliResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${(error as Error).message}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
