/**
 * The commander program: flags → typed options → a command module, loaded
 * with import() only when its command runs, and the one top-level catch.
 *
 * This file alone is CommonJS (.cts): an ESM entry costs ~12 ms and commander's
 * ESM wrapper ~11 ms more, on a ~100 ms `node -e 0` (bench/startup.ts), which
 * would put `pgssl --version` past 1.3x. Everything it loads later is ESM.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';

const exitUsage = 2;
const packageJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

function addConnectionOptions(command: Command): Command {
  return command
    .option('-h, --host <host>', 'server host or socket directory (PGHOST; default: the local socket)')
    .option('-p, --port <port>', 'server port (PGPORT; default 5432)')
    .option('-U, --username <user>', 'database user (PGUSER; default: the OS user)')
    .option('-d, --dbname <db|conninfo>', 'database name, or a conninfo string / postgresql:// URI (PGDATABASE)')
    // -W before -w: commander then leaves the default undefined (libpq's "ask when needed").
    .option('-W, --password', 'prompt for a password before connecting')
    .option('-w, --no-password', 'never prompt for a password');
}

/** commander's --no-password sets password=false; split it into our two flags. */
function connectionFlags(options: Record<string, unknown>) {
  return {
    host: options.host as string | undefined,
    port: options.port as string | undefined,
    username: options.username as string | undefined,
    dbname: options.dbname as string | undefined,
    password: options.password === true,
    noPassword: options.password === false,
  };
}

export function buildProgram(): Command {
  const program = new Command('pgssl')
    .description('Turn TLS on for a self-managed PostgreSQL server, in the safe order, and prove it is enforced.')
    .version(packageJson.version, '-V, --version', 'print the version')
    // -h is the host, as in psql.
    .helpOption('--help', 'show help')
    .option('--json', 'one JSON document on stdout; human text on stderr')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl status            audit the local server over its socket
  pgssl status -h db1 -U admin --json      the same, remotely, for scripts (exit 0 = compliant)
  pgssl demo                               try it all on a throwaway local cluster

Exit codes: 0 ok/compliant, 1 operational failure, 2 bad usage or input, 3 check failed.`,
    );

  addConnectionOptions(
    program
      .command('status')
      .description('read-only audit: is TLS on, does it work, and is it enforced for every remote client')
      .helpOption('--help', 'show help')
      .addOption(new Option('--expiry-warn-days <days>', 'warn when the certificate expires within this many days').default('30').argParser(positiveInteger)),
  )
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl status
  pgssl status -d "host=db1 user=admin sslmode=require" --json | jq .findings

Exit codes: 0 compliant, 3 not compliant, 1 could not check (e.g. no privilege to read pg_hba.conf), 2 bad usage.`,
    )
    .action(async (options, command: Command) => {
      const { statusCommand } = await import('./commands/status.js');
      const all = command.optsWithGlobals();
      process.exitCode = await statusCommand({ ...connectionFlags(options), json: all.json, color: all.color, expiryWarnDays: Number(options.expiryWarnDays) });
    });

  return program;
}

function positiveInteger(value: string): string {
  if (!/^\d+$/.test(value)) throw new CommanderError(exitUsage, 'pgssl.invalidArgument', `error: expected a whole number, got "${value}"`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other parse error is bad usage (2).
      process.exitCode = error.exitCode === 0 ? 0 : exitUsage;
      return;
    }
    const { reportError } = await import('./ui/reportError.js');
    process.exitCode = reportError(error);
  }
}

void main(process.argv);
