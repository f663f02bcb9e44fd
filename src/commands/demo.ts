/**
 * `pgssl demo`: a throwaway local cluster (with a plain remote rule, as many
 * real ones have), `pgssl status` before, `pgssl enable --yes` step by step,
 * `pgssl status` after, a real psql verify-full connection, then the cluster
 * is stopped and removed. Nothing outside its temp folder is touched.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startThrowawayCluster, cleanEnv } from '../cluster/throwaway.js';
import { ExitCode, OperationalError, UsageError } from '../errors.js';
import { colourWanted, makeStyle } from '../ui/style.js';

const demoHba = `# pg_hba.conf of the demo cluster: loopback, plus an application network reached without TLS
local   all   all                     trust
host    all   all   127.0.0.1/32      trust
host    all   all   0.0.0.0/0         trust
host    replication  all  0.0.0.0/0   trust
`;

export async function demoCommand(options: { color?: boolean; json?: boolean; binDir?: string }): Promise<number> {
  // A walk-through for a person at a terminal: its output is the other commands' text.
  if (options.json) throw new UsageError('pgssl demo is a walk-through for a terminal and has no --json; nothing was started. Run it without --json, or run pgssl status --json / pgssl enable --json against a server.');
  const style = makeStyle(colourWanted(options.color, process.stdout));
  const say = (text: string) => process.stdout.write(`\n${style.bold(`▶ ${text}`)}\n`);
  say('Starting a throwaway PostgreSQL cluster');
  let cluster;
  try {
    cluster = await startThrowawayCluster({ hba: demoHba, binDir: options.binDir, label: 'pgssl-demo' });
  } catch (error) {
    throw new OperationalError(`could not start a demo cluster: ${(error as Error).message}`);
  }
  const stop = () => cluster.stop();
  process.once('SIGINT', stop);
  try {
    process.stdout.write(`  PostgreSQL ${cluster.major} from ${cluster.binDir}, data in ${cluster.dataDir}, port ${cluster.port}\n`);
    const env = cleanEnv({
      PGHOST: cluster.socketDir,
      PGPORT: String(cluster.port),
      PGUSER: 'postgres',
      PGDATABASE: 'postgres',
      PGSSL_STATE_DIR: join(cluster.dir, 'pgssl-state'),
      ...(options.color === false ? { NO_COLOR: '1' } : {}),
    });
    // pgssl itself again: node and bin/pgssl, or the single executable alone (Node's SEA sets argv[1] to the executable too).
    const self = process.argv[1] === process.execPath ? [] : [process.argv[1]];
    const pgssl = (...args: string[]) => spawnSync(process.execPath, [...self, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] }).status;

    say('pgssl status (before): TLS is off, and a host rule lets remote clients in without it');
    pgssl('status');
    say('pgssl enable --yes');
    const enabled = pgssl('enable', '--yes');
    say('pgssl status (after)');
    const status = pgssl('status');

    say('A real client: psql with sslmode=verify-full');
    const psql = ['/usr/bin/psql', join(cluster.binDir, 'psql')].find((p) => existsSync(p));
    if (!psql) {
      process.stdout.write('  (psql is not installed here; pgssl enable already proved a verify-full connection)\n');
    } else {
      const conninfo = `host=localhost hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(cluster.dataDir, 'root.crt')}`;
      process.stdout.write(`  psql "${conninfo}"\n`);
      spawnSync(psql, ['-X', '-d', conninfo, '-c', 'SELECT ssl, version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], { env: cleanEnv({ HOME: cluster.dir }), stdio: ['ignore', 'inherit', 'inherit'] });
    }
    say('Stopping and removing the demo cluster');
    return enabled === 0 && status === 0 ? ExitCode.ok : ExitCode.checkFailed;
  } finally {
    process.off('SIGINT', stop);
    cluster.stop();
    process.stdout.write(`  removed ${cluster.dir}\n`);
  }
}
