/**
 * Runs the built CLI the way a user does: a child process, real argv, real
 * exit code. Every --json document it gives is validated against its schema
 * (test/support/jsonSchema.ts): a run with --json that ends by itself must
 * print exactly one valid document, or the test fails.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { assertValidJsonDocument } from './jsonSchema.js';
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
      const result = { code, signal, stdout, stderr };
      try {
        if (signal === null && printsJson(args)) parseJsonOutput(result);
      } catch (error) {
        reject(new Error(`pgssl ${args.join(' ')}: ${(error as Error).message}`));
        return;
      }
      resolve(result);
    });
    child.stdin.end(options.input ?? '');
  });
}

/** --json asks for one document; --help and --version print text whatever else is given. */
function printsJson(args: string[]): boolean {
  const untilEnd = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  return untilEnd.includes('--json') && !untilEnd.some((a) => a === '--help' || a === '--version' || a === '-V');
}

/** The one JSON document on stdout, validated against the schema its `command` names. */
export function parseJsonOutput(result: CliResult): any {
  let document: unknown;
  try {
    document = JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${(error as Error).message}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  assertValidJsonDocument(document);
  return document;
}
