/** Runs the real psql client with a conninfo string; never reads ~/.psqlrc or the developer's PG* variables. */
import { spawnSync } from 'node:child_process';
import { cleanEnv } from './cluster.js';
import { psqlPath } from './pgbin.js';

export interface PsqlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function psql(conninfo: string, sql: string, env: Record<string, string> = {}): PsqlResult {
  const result = spawnSync(psqlPath(), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql], {
    env: cleanEnv({ HOME: '/nonexistent', ...env }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}
