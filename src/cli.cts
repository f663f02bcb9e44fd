/**
 * The commander program: flags → typed options → a command module, loaded
 * with import() only when its command runs, and the one top-level catch.
 *
 * CommonJS (.cts), bundled with commander into dist/bundle/cli.cjs
 * (scripts/bundle.mjs) and loaded with V8's code cache (src/bundleLoader.cts):
 * an ESM entry and commander's ESM wrapper cost ~20 ms more. bin/pgssl and the
 * single executable call main(); loading the file runs no command.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command as CommandType } from 'commander';
import { loadBundle } from './bundleLoader.cjs';

// Before commander loads: see startKeysEarly.
const earlyKeys = startKeysEarly(process.argv.slice(2));
const { Argument, Command, CommanderError, Option } = require('commander') as typeof import('commander');
type Command = CommandType;

const exitUsage = 2;

/**
 * `pgssl … | head` closes the pipe early, and a dropped ssh session takes the
 * terminal away: from then on output is discarded, and the command carries on
 * to its end (and its exit code). Exiting here instead would stop an enable
 * between two changes (issue 13, defect 11). The changes themselves never
 * depend on the output reaching anyone.
 */
function discardOutputOnceBroken(stream: NodeJS.WriteStream, onError?: (error: NodeJS.ErrnoException) => void): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    onError?.(error);
    stream.write = ((...args: unknown[]) => {
      const done = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      if (done) process.nextTick(done);
      return true;
    }) as typeof stream.write;
  });
}
// A reader that went away (EPIPE) is normal; a full disk under `> report.json` deserves a
// word on stderr. Nothing is ever said on stdout about stderr: it may be one JSON document.
discardOutputOnceBroken(process.stdout, (error) => {
  if (error.code !== 'EPIPE') process.stderr.write(`pgssl: cannot write to stdout (${error.code ?? error.message}): its output is lost; the command carries on\n`);
});
discardOutputOnceBroken(process.stderr);

/**
 * The command modules, from dist/bundle/commands.cjs: esbuild's single
 * CommonJS file of src/commands/all.ts (scripts/bundle.mjs). One file loads
 * ~35 ms faster than the ~70 modules behind it, and require() skips the
 * start of Node's ESM loader (~40 ms more). The certificate commands that
 * need no server load dist/bundle/certs.cjs instead (src/commands/certs.ts,
 * a sixth of the size): checkOptions loads the option check from the bundle
 * the command's path says its action uses, and the error report comes from
 * the bundle an action loaded last, whose error classes it knows.
 * In the single executable (scripts/build-sea.mjs) both are already inside
 * the one script: its entry hands them over as `bundled`.
 */
type Commands = typeof import('./commands/all.js');
type CertCommands = typeof import('./commands/certs.js');
/** Commands whose action takes what it needs from certs.cjs; every other one loads commands.cjs. */
const certBundleCommands = new Set(['client-cert', 'ca init', 'cert inspect']);
interface Bundled {
  version: string;
  commands(): Commands;
  certCommands(): CertCommands;
}
const bundled = (globalThis as { [key: symbol]: Bundled | undefined })[Symbol.for('pgssl.bundled')];
let useCertBundle = false;
let commands: Promise<Commands> | undefined;
function loadCommands(): Promise<Commands> {
  useCertBundle = false;
  return (commands ??= Promise.resolve().then(() => bundled?.commands() ?? loadBundle<Commands>(join(__dirname, '..', 'bundle', 'commands.cjs'))));
}
let certCommands: Promise<CertCommands> | undefined;
function loadCertCommands(): Promise<CertCommands> {
  useCertBundle = true;
  return (certCommands ??= Promise.resolve().then(() => bundled?.certCommands() ?? loadBundle<CertCommands>(join(__dirname, '..', 'bundle', 'certs.cjs'))));
}
/** The option check and the error report, from the bundle the command's action uses (or used). */
function loadShared(): Promise<Pick<CertCommands, 'optionProblems' | 'optionProblemsMessage' | 'reportError' | 'printJsonFailureOnce' | 'printJsonUsageFailure'>> {
  return useCertBundle ? loadCertCommands() : loadCommands();
}

// The single executable has no package.json beside it: its build writes the version in.
const packageJson = bundled ?? (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string });

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

/**
 * The functions that add the top-level commands, in --help's order, with the
 * names each one adds (test/unit/cli-program.test.ts holds the names to what
 * they add). `pgssl NAME …` builds only NAME's part: building all ~20
 * commands and ~250 options took a few ms of every start (issue 9).
 */
const topLevelCommands: [names: string[], add: (program: Command) => void][] = [
  [['status'], addStatusCommand],
  [['enable', 'disable', 'rotate', 'confirm', 'confirm-deadline', 'rollback'], addEnableCommands],
  [['readiness'], addReadinessCommand],
  [['demo'], addDemoCommand],
  [['hba'], addHbaCommands],
  [['cert', 'client-cert', 'ca'], addCertCommands],
  [['completion'], addCompletionCommand],
];
/** The completion script and `pgssl help X` read every command. */
const needWholeProgram = new Set(['completion', 'help']);

/** The program for these arguments: with the part of the top-level command they name, or with every command. */
export function buildProgram(argv: string[] = []): Command {
  const program = new Command('pgssl')
    .description('Turn TLS on for a self-managed PostgreSQL server, in the safe order, and prove it is enforced.')
    .version(packageJson.version, '-V, --version', 'print the version')
    // Set before any subcommand exists: commander copies both into each one as it is created.
    // -h is the host, as in psql; a usage error must reach main() to exit 2, at every depth.
    .helpOption('--help', 'show help')
    .exitOverride()
    .option('--json', 'one JSON document on stdout; human text on stderr')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .showHelpAfterError('(run with --help for usage)')
    // commander's own usage errors ("error: unknown option …") and ours read alike: `pgssl: error: …`.
    .configureOutput({ outputError: (text, write) => write(`pgssl: ${text}`) })
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl status            audit the local server over its socket
  pgssl status -h db1 -U admin --json      the same, remotely, for scripts (exit 0 = compliant)
  pgssl demo                               try it all on a throwaway local cluster

Exit codes: 0 ok/compliant, 1 operational failure, 2 bad usage or input, 3 check failed.`,
    )
    .hook('preAction', checkOptions);

  const typed = topLevelName(program, argv);
  const part = typed === undefined || needWholeProgram.has(typed) ? undefined : topLevelCommands.find(([names]) => names.includes(typed));
  for (const [, add] of part ? [part] : topLevelCommands) add(program);
  return program;
}

/**
 * The top-level command typed: the first argument that is not an option, when
 * only the program's own options (none takes a value) come before it.
 * Anything else before it (`pgssl --help status`, `pgssl --bogus status`)
 * makes commander answer at the top level, with help or suggestions that list
 * every command: undefined, the whole program.
 */
function topLevelName(program: Command, argv: string[]): string | undefined {
  const own = new Set(program.options.flatMap((option) => [option.long, option.short]));
  const args = argv.slice(2);
  const first = args.findIndex((arg) => !arg.startsWith('-'));
  return first !== -1 && args.slice(0, first).every((arg) => own.has(arg)) ? args[first] : undefined;
}

function addStatusCommand(program: Command): void {
  addConnectionOptions(
    program
      .command('status')
      .description('read-only audit: is TLS on, does it work, and is it enforced for every remote client')
      .addOption(new Option('--expiry-warn-days <days>', 'warn when the certificate expires within this many days (0-3650)').default('30'))
      .addOption(choices(new Option('--format <format>', 'text, json (= --json) or prometheus (node_exporter textfile collector)'), ['text', 'json', 'prometheus']))
      .option('--output <file>', 'replace this file atomically (mode 0644) instead of writing to stdout'),
  )
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl status
  pgssl status -d "host=db1 user=admin sslmode=require" --json | jq .findings
  sudo -u postgres pgssl status --format prometheus --output /var/lib/prometheus/node-exporter/pgssl-16-main.prom

Exit codes: 0 compliant, 3 not compliant, 1 could not check (e.g. no privilege to read pg_hba.conf), 2 bad usage.
With --format prometheus the metrics are written on exit 1 too (pgssl_status_success 0).`,
    )
    .action(async (options, command: Command) => {
      const { statusCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await statusCommand({ ...connectionFlags(options), json: all.json, color: all.color, expiryWarnDays: Number(options.expiryWarnDays), format: options.format, output: options.output });
    });
}

function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start a throwaway local cluster, run pgssl enable on it step by step, show the result, clean up')
    .option('--pg-bin <dir>', 'PostgreSQL server binaries to use (default: the system\'s, or the embedded ones in a checkout)')
    .action(async (options, command: Command) => {
      const { demoCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await demoCommand({ color: all.color, json: all.json, binDir: options.pgBin });
    });
}

/** Generated from the program itself when it runs: commands added anywhere above complete without an edit. */
function addCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script for bash or zsh (subcommands, flags, choices)')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText('after', "\nExamples:\n  pgssl completion bash > /etc/bash_completion.d/pgssl\n  pgssl completion zsh > /usr/local/share/zsh/site-functions/_pgssl\n  echo 'source <(pgssl completion bash)' >> ~/.bashrc")
    .action(async (shell: 'bash' | 'zsh', _options, command: Command) => {
      const { completionCommand } = await loadCommands();
      process.exitCode = completionCommand(shell, command.parent!);
    });
}

function addEnableOptions(command: Command): Command {
  addConnectionOptions(command);
  addRewriteOptions(command);
  return command
    .option('-y, --yes', 'accept the default answer to every question (scripts)')
    .option('--non-interactive', 'never ask; fail naming the flag when an answer is missing (implied without a terminal)')
    .option('--dry-run', 'show the full plan (files, SQL, pg_hba.conf diff, sessions) and change nothing')
    .option('--self-signed', 'a self-signed server certificate instead of one from pgssl\'s CA')
    .option('--cert-file <file>', 'use this existing server certificate (with --key-file)')
    .option('--key-file <file>', 'private key of --cert-file')
    .option('--ca-file <file>', 'CA of --cert-file, for verification and ssl_ca_file')
    .option('--ca-cert <file>', 'sign a new server certificate with this CA (with --ca-key)')
    .option('--ca-key <file>', 'private key of --ca-cert')
    .option('--san <name>', 'another DNS name or IP for the certificate (repeatable)', collect)
    .addOption(new Option('--days <n>', 'server certificate validity in days (1-3650)').default('397'))
    .addOption(choices(new Option('--key-type <type>', 'key of new certificates (server, and pgssl\'s CA when created): ecdsa (P-256) or rsa').default('ecdsa'), ['ecdsa', 'rsa']))
    .addOption(choices(new Option('--rsa-bits <bits>', 'RSA key size, with --key-type rsa').default('2048'), ['2048', '3072', '4096']))
    .option('--cert-dir <dir>', 'where to put server.crt/server.key/root.crt (default: the data directory)')
    .option('--allow-name-mismatch', 'accept --cert-file even if it does not name this host')
    .addOption(choices(new Option('--min-tls <version>', 'minimum TLS version').default('1.2'), ['1.2', '1.3']))
    .option('--keep-ciphers', "keep the server's ssl_ciphers instead of a forward-secret, AEAD-only list")
    .option('--terminate-non-ssl', 'end live sessions that do not use TLS (walsenders reconnect by themselves)')
    .option('--require-ready', 'stop before any change when a client seen without TLS (live, or in the server log) would be refused (see pgssl readiness)')
    .addOption(new Option('--walsender-wait <seconds>', 'how long to wait for terminated walsenders to come back on TLS (0-3600)').default('30'))
    .option('--confirm-within <seconds>', 'keep the run only if pgssl confirm comes within this many seconds (5-86400); otherwise a watchdog reverts it all')
    .option('--primary <conninfo>', "on a standby: an admin connection to its primary (conninfo or URI), to see there that the walsender came back on TLS");
}

function addEnableCommands(program: Command): void {
  addEnableOptions(
    program
      .command('enable')
      .description('turn TLS on in the safe order, verify it, require it in pg_hba.conf, verify again (undone on failure)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl enable                       the wizard: every step shown and asked
  sudo -u postgres pgssl enable --dry-run             the whole plan, nothing changed
  pgssl enable --yes --json --san db1.example.com     scripts: no prompt, one JSON document
  pgssl enable --yes --cert-file /etc/ssl/db.crt --key-file /etc/ssl/db.key --ca-file /etc/ssl/ca.crt
  pgssl enable --yes --ca-file primary-ca.crt         on a standby: primary_conninfo with sslmode=verify-full

Exit codes: 0 done and compliant, 1 could not run (nothing changed, or undone), 2 bad usage or input,
3 verification failed (every change undone) or not compliant afterwards, or (wizard, --confirm-within)
not confirmed in time and reverted.`,
    )
    .action(async (options, command: Command) => runEnableAction(options, command));

  addConnectionOptions(
    program
      .command('disable')
      .description('the safe reverse order: hostssl → host first and proven, only then ssl = off and proven (undone on failure)')
      .option('-y, --yes', 'accept the default answer to every question (scripts)')
      .option('--non-interactive', 'never ask; fail naming the flag when an answer is missing (implied without a terminal)')
      .option('--dry-run', 'show the plan (pg_hba.conf diff, settings, what clients lose) and change nothing')
      .option('--all-rules', 'loosen every remote hostssl rule, not only those pgssl converted')
      .option('--keep-ssl', 'loosen pg_hba.conf but leave TLS on')
      .option('--include-loopback', 'with --all-rules: loopback-only hostssl rules too'),
  )
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl disable --dry-run          what would change, and what clients lose
  sudo -u postgres pgssl disable --yes --keep-ssl   TLS optional again, still offered
  pgssl disable --yes --json --all-rules            scripts: every remote hostssl rule, then ssl = off

Exit codes: 0 done, 1 could not run (nothing changed, or undone), 2 bad usage or a lockout refused,
3 verification failed (every change undone).`,
    )
    .action(async (options, command: Command) => {
      const { disableCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await disableCommand({ ...connectionFlags(options), json: all.json, color: all.color, yes: options.yes, nonInteractive: options.nonInteractive, dryRun: options.dryRun, allRules: options.allRules, keepSsl: options.keepSsl, includeLoopback: options.includeLoopback });
    });

  addConnectionOptions(
    program
      .command('rotate')
      .description('a new server certificate from the same CA (or your files), swapped in as one pair, proven served; undone on failure')
      .option('-y, --yes', 'accept the default answer to every question (scripts)')
      .option('--non-interactive', 'never ask; fail naming the flag when an answer is missing (implied without a terminal)')
      .option('--dry-run', 'show the plan (new files, SQL, names) and change nothing')
      .option('--if-expiring-within <days>', 'rotate only when the served certificate expires within this many days (0-3650); silent otherwise')
      .option('--check', 'change nothing: exit 0 not due, 3 due (within --if-expiring-within, default 30 days), 1 could not check')
      .option('--verbose', 'with --if-expiring-within/--check: say "not due" too')
      .option('--cert-file <file>', 'install this existing server certificate (with --key-file) instead of issuing one')
      .option('--key-file <file>', 'private key of --cert-file')
      .option('--ca-file <file>', 'CA of --cert-file, to verify it (ssl_ca_file is left as it is)')
      .option('--ca-cert <file>', "sign the new certificate with this CA (with --ca-key; default: pgssl's CA)")
      .option('--ca-key <file>', 'private key of --ca-cert')
      .option('--san <name>', 'another DNS name or IP for the new certificate (repeatable)', collect)
      .addOption(new Option('--days <n>', 'validity of the new certificate in days (1-3650)').default('397'))
      .addOption(choices(new Option('--key-type <type>', 'key of the new certificate: ecdsa (P-256) or rsa (default: the type in force)'), ['ecdsa', 'rsa']))
      .addOption(choices(new Option('--rsa-bits <bits>', 'RSA key size, with --key-type rsa').default('2048'), ['2048', '3072', '4096']))
      .option('--cert-dir <dir>', 'where to write the new pair (default: beside the files in force)')
      .option('--allow-name-mismatch', 'accept --cert-file even if it does not name this host')
      .option('--ca', "rotate pgssl's CA in two phases: a new CA, trusted beside the old one (bundle in ssl_ca_file and the client ca.crt)")
      .option('--finish', 'with --ca: the second phase, once clients have the bundle: a server certificate from the new CA, the old CA dropped'),
  )
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl rotate --dry-run                   the new pair, its names and the SQL, nothing changed
  sudo -u postgres pgssl rotate --yes                       renew now from the same CA
  pgssl rotate --yes --if-expiring-within 30                for cron / systemd timers: silent unless due
  pgssl rotate --check --json                               monitoring: exit 3 when due within 30 days
  sudo -u postgres pgssl rotate --ca --yes                  CA rotation, phase 1: new CA, clients get the bundle
  sudo -u postgres pgssl rotate --ca --finish --yes         phase 2, once every client has the bundle

Exit codes: 0 rotated (or not due; --ca: phase done, or an overlap already in progress), 1 could not run or check
(nothing changed, or undone), 2 bad usage or input (--finish with no CA rotation in progress), 3 the server did not
serve the new certificate, or --ca: a CA file verified when it must not (or did not when it must) (every change
undone), or --check: due.`,
    )
    .action(async (options, command: Command) => {
      const { rotateCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await rotateCommand({
        ...(options as object),
        ...connectionFlags(options),
        json: all.json,
        color: all.color,
        days: Number(options.days),
        keyTypeGiven: command.getOptionValueSource('keyType') === 'cli',
        rsaBits: Number(options.rsaBits),
        rsaBitsGiven: command.getOptionValueSource('rsaBits') === 'cli',
        ifExpiringWithin: options.ifExpiringWithin === undefined ? undefined : Number(options.ifExpiringWithin),
      } as never);
    });

  addConnectionOptions(
    program
      .command('confirm')
      .description('keep the run started with enable --confirm-within (from a new session: it proves you still get in)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  pgssl enable --yes --confirm-within 300 -h db1 -U admin     change it over the path it may cut
  pgssl confirm -h db1 -U admin                              from a new session, before the deadline

Exit codes: 0 confirmed (or nothing pending), 1 too late (the deadline passed or the host rebooted: the run
is being or has been reverted) or could not check, 2 bad usage.`,
    )
    .action(async (options, command: Command) => {
      const { confirmCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await confirmCommand({ ...connectionFlags(options), json: all.json });
    });

  // The watchdog of a confirm window (flow/confirm/watchdog.ts starts it); not for people.
  program
    .command('confirm-deadline', { hidden: true })
    .requiredOption('--journal <file>', 'the run journal whose window to watch')
    .action(async (options) => {
      const { confirmDeadlineCommand } = await loadCommands();
      process.exitCode = await confirmDeadlineCommand({ journal: options.journal });
    });

  const rollback = program
    .command('rollback')
    .description('undo the last applied pgssl run on this server from its journal: settings as settings, files byte for byte')
    .option('-D, --pgdata <dir>', 'the server is down: undo on this data directory without connecting')
    .option('--merge', "files or settings changed since pgssl wrote them: undo only pgssl's own lines and settings, keep the later edits")
    .option('--force', "files or settings changed since pgssl wrote them: restore pgssl's backups over the later edits")
    .option('-y, --yes', 'accept the default answer to every question')
    .option('--non-interactive', 'never ask; fail naming the flag when an answer is missing')
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl rollback                    undo the last run on the local server
  sudo -u postgres pgssl rollback --merge            keep pg_hba.conf lines added after pgssl, undo only its own
  sudo -u postgres pgssl rollback -D /var/lib/postgresql/16/main   the server is down

Exit codes: 0 undone (or nothing to undo), 1 could not undo everything, or later edits need a choice (--merge/--force).`,
    );
  addConnectionOptions(rollback).action(async (options, command: Command) => {
    const { rollbackCommand } = await loadCommands();
    const all = command.optsWithGlobals();
    process.exitCode = await rollbackCommand({ ...connectionFlags(options), json: all.json, color: all.color, yes: options.yes, nonInteractive: options.nonInteractive, merge: options.merge, force: options.force, pgdata: options.pgdata });
  });
}

type PrewarmedKey = Promise<{ privateKeyPem: string; publicKeyPem: string; spec: { type: 'rsa'; bits: number } }>;

/**
 * RSA key generation (--key-type rsa) runs on libuv's thread pool: started
 * before the command's modules load and while preflight talks to the server,
 * it costs little by the time the certificate step needs the keys
 * (bench/enable.ts). ECDSA keys (the default) take ~0.1 ms: made when needed.
 */
function generateKeys(bits: number): PrewarmedKey[] {
  const { generateKeyPair } = require('node:crypto') as typeof import('node:crypto');
  const one = (): PrewarmedKey =>
    new Promise((resolve, reject) =>
      generateKeyPair('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }, (error, publicKeyPem, privateKeyPem) =>
        error ? reject(error) : resolve({ privateKeyPem, publicKeyPem, spec: { type: 'rsa', bits } }),
      ),
    );
  const keys = [one(), one()];
  for (const key of keys) key.catch(() => undefined); // unused keys must not become unhandled rejections
  return keys;
}

/**
 * The keys start even before commander loads (~20 ms sooner) when the
 * arguments plainly ask enable to issue an RSA certificate: `pgssl enable
 * --key-type rsa` without --dry-run, --cert-file or help. prewarmKeys()
 * takes them over once the options are parsed, if the size matches;
 * otherwise they go unused.
 */
function startKeysEarly(args: string[]): { bits: number; keys: PrewarmedKey[] } | undefined {
  if (args[0] !== 'enable' || args.some((arg) => ['--dry-run', '--cert-file', '--help', '--version'].includes(arg.split('=')[0]))) return undefined;
  const keyType = args.findIndex((arg) => arg === '--key-type' || arg.startsWith('--key-type='));
  if (keyType === -1 || (args[keyType].includes('=') ? args[keyType].split('=')[1] : args[keyType + 1]) !== 'rsa') return undefined;
  const flag = args.findIndex((arg) => arg === '--rsa-bits' || arg.startsWith('--rsa-bits='));
  const bits = flag === -1 ? 2048 : Number(args[flag].includes('=') ? args[flag].split('=')[1] : args[flag + 1]);
  return [2048, 3072, 4096].includes(bits) ? { bits, keys: generateKeys(bits) } : undefined;
}

function prewarmKeys(options: Record<string, unknown>): PrewarmedKey[] | undefined {
  if (options.dryRun || options.certFile || options.keyType !== 'rsa') return undefined;
  const bits = Number(options.rsaBits);
  if (earlyKeys?.bits === bits) return earlyKeys.keys;
  return generateKeys(bits);
}

async function runEnableAction(options: Record<string, unknown>, command: Command): Promise<void> {
  const prewarmedKeys = prewarmKeys(options);
  const { enableCommand } = await loadCommands();
  const all = command.optsWithGlobals();
  process.exitCode = await enableCommand({
    ...(options as object),
    ...connectionFlags(options),
    json: all.json,
    color: all.color,
    days: Number(options.days),
    rsaBits: Number(options.rsaBits),
    rsaBitsGiven: command.getOptionValueSource('rsaBits') === 'cli',
    minTls: String(options.minTls),
    walsenderWait: Number(options.walsenderWait),
    confirmWithin: options.confirmWithin === undefined ? undefined : Number(options.confirmWithin),
    prewarmedKeys,
  } as never);
}

function addCertCommands(program: Command): void {
  const cert = program.command('cert').description('certificate tools');
  cert
    .command('inspect <files...>')
    .description('subject, names, expiry, key match, chain and name coverage of certificate/key files (exit 0 sound, 3 problem, 2 unreadable)')
    .option('--host <name>', 'check that the certificate covers this host name or IP (repeatable)', collect)
    .option('--ca <file>', 'check that the certificate chain verifies against this CA')
    .addOption(new Option('--expiry-warn-days <days>', 'warn when a certificate expires within this many days (0-3650)').default('30'))
    .addHelpText('after', '\nExamples:\n  pgssl cert inspect server.crt server.key --ca root.crt --host db1.example.com\n  pgssl cert inspect /var/lib/postgresql/16/main/server.crt --json')
    .action(async (files: string[], options, command: Command) => {
      const { certInspectCommand } = await loadCertCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await certInspectCommand(files, { ...options, expiryWarnDays: Number(options.expiryWarnDays), json: all.json, color: all.color });
    });
  addConnectionOptions(
    cert
      .command('request')
      .description('on the database host: the server key (never leaves the host) and a certificate request with the names pgssl enable would use, for pgssl ca sign')
      .requiredOption('--out-dir <dir>', 'where to write server.key (0600, the server\'s OS user\'s) and server.csr (created 0700 when missing)')
      .option('--san <name>', 'an extra DNS name or IP address for the request (repeatable)', collect)
      .addOption(choices(new Option('--key-type <type>', 'key of the server: ecdsa (P-256) or rsa').default('ecdsa'), ['ecdsa', 'rsa']))
      .addOption(choices(new Option('--rsa-bits <bits>', 'RSA key size, with --key-type rsa').default('2048'), ['2048', '3072', '4096']))
      .option('--force', 'a new key too (default: keep server.key, and server.csr while its names are still right)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl cert request --out-dir /etc/pgssl/request --san db1.example.com
  pgssl cert request --out-dir /etc/pgssl/request --json     (changed: false when nothing was written)

Then on the CA's machine: pgssl ca sign server.csr --dir CADIR --out server.crt`,
    )
    .action(async (options, command: Command) => {
      const { certRequestCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await certRequestCommand({ ...options, ...connectionFlags(options), rsaBitsGiven: command.getOptionValueSource('rsaBits') === 'cli', json: all.json });
    });
  program
    .command('client-cert <name>')
    .description("issue a client certificate (CN = the role name) from pgssl's CA, for cert authentication")
    .option('--out-dir <dir>', 'where to write NAME.crt, NAME.key and NAME.pk8', '.')
    .addOption(new Option('--days <n>', 'validity in days (1-3650)').default('397'))
    .addOption(choices(new Option('--key-type <type>', 'key of the client certificate: ecdsa (P-256) or rsa').default('ecdsa'), ['ecdsa', 'rsa']))
    .addOption(choices(new Option('--rsa-bits <bits>', 'RSA key size, with --key-type rsa').default('2048'), ['2048', '3072', '4096']))
    .option('--dir <dir>', "folder of pgssl's CA, e.g. one made by pgssl ca init --dir (default: pgssl's state folder)")
    .option('--ca-cert <file>', "CA certificate to sign with (default: pgssl's CA in --dir)")
    .option('--ca-key <file>', 'private key of --ca-cert')
    .option('--force', 'replace existing NAME.crt, NAME.key and NAME.pk8')
    .addHelpText('after', '\nExamples:\n  pgssl client-cert alice --out-dir ~/certs\n  pgssl client-cert alice --dir /srv/pgssl-ca --out-dir ~/certs     (the fleet CA of pgssl ca init --dir)\n  pgssl client-cert app --ca-cert corp-ca.crt --ca-key corp-ca.key --days 90')
    .action(async (name: string, options, command: Command) => {
      const { clientCertCommand } = await loadCertCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await clientCertCommand(name, { ...options, days: Number(options.days), rsaBitsGiven: command.getOptionValueSource('rsaBits') === 'cli', json: all.json });
    });
  const ca = program.command('ca').description("pgssl's private CA");
  ca.command('init')
    .description("create pgssl's CA on its own (ca.crt, ca.key 0600 in a 0700 folder), e.g. on an admin machine; never overwrites one")
    .option('--dir <dir>', "where to create it (default: pgssl's state folder)")
    .addOption(choices(new Option('--key-type <type>', 'key of the CA: ecdsa (P-256) or rsa').default('ecdsa'), ['ecdsa', 'rsa']))
    .addOption(choices(new Option('--rsa-bits <bits>', 'RSA key size, with --key-type rsa').default('2048'), ['2048', '3072', '4096']))
    .addOption(new Option('--days <n>', 'validity in days (1-7300)').default('3650'))
    .addHelpText('after', '\nExamples:\n  pgssl ca init\n  pgssl ca init --dir /srv/pgssl-ca --key-type rsa --rsa-bits 3072\n  pgssl client-cert alice --dir /srv/pgssl-ca')
    .action(async (options, command: Command) => {
      const { caInitCommand } = await loadCertCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await caInitCommand({ ...options, days: Number(options.days), rsaBitsGiven: command.getOptionValueSource('rsaBits') === 'cli', json: all.json });
    });
  ca.command('sign <csr>')
    .description('on the CA\'s machine: check a certificate request (pgssl cert request) and issue its server certificate; reads only the request and the CA folder')
    .option('--dir <dir>', "folder of pgssl's CA (pgssl ca init --dir; default: pgssl's state folder)")
    .addOption(new Option('--days <n>', 'validity in days (1-3650)').default('397'))
    .requiredOption('--out <file>', 'where to write the server certificate (0644)')
    .addOption(new Option('--renew-within <days>', 'keep an existing --out certificate for this request unless it expires within this many days (0-3650)').default('30'))
    .addHelpText(
      'after',
      `
Examples:
  pgssl ca sign db1/server.csr --dir /srv/pgssl-ca --out db1/server.crt
  pgssl ca sign db1/server.csr --dir /srv/pgssl-ca --out db1/server.crt --days 90 --json

Exit codes: 0 issued or already in place (changed: false), 2 request refused (nothing written), 1 error.`,
    )
    .action(async (csr: string, options, command: Command) => {
      const { caSignCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await caSignCommand(csr, { dir: options.dir, out: options.out, days: Number(options.days), renewWithin: Number(options.renewWithin), json: all.json });
    });
}

function addReadinessCommand(program: Command): void {
  const readiness = program
    .command('readiness')
    .description('read-only: clients seen without TLS (live sessions, server log) and whether the planned pg_hba.conf would refuse each')
    .option('--for <duration>', 'sample live sessions over this long (0, 90s, 15m, 2h; default 0: one sample)', '0')
    .option('--log <file>', 'read this server log instead of the one the logging collector writes (.csv: csvlog, .json: jsonlog, else stderr; repeatable)', collect)
    // enable's rewrite limits (addRewriteOptions without --pg-major: the server says its major).
    .option('--include-loopback', 'plan as enable --include-loopback: loopback-only rules become hostssl too')
    .option('--skip-replication', 'plan as enable --skip-replication: replication rules stay as they are')
    .option('--only-db <name>', 'plan as enable --only-db (repeatable)', collect)
    .option('--only-user <name>', 'plan as enable --only-user (repeatable)', collect)
    .option('--only-address <addr>', 'plan as enable --only-address (repeatable)', collect);
  addConnectionOptions(readiness)
    .addHelpText(
      'after',
      `
Examples:
  sudo -u postgres pgssl readiness
  sudo -u postgres pgssl readiness --for 15m --skip-replication --json | jq .clients
  pgssl readiness --log /var/log/postgresql/postgresql-16-main.log

Exit codes: 0 nobody seen without TLS would be refused, 3 someone would, 1 could not check, 2 bad usage.`,
    )
    .action(async (options, command: Command) => {
      const { readinessCommand, parseDuration } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await readinessCommand({
        ...connectionFlags(options),
        json: all.json,
        color: all.color,
        forSeconds: parseDuration(options.for) ?? 0,
        log: options.log,
        includeLoopback: options.includeLoopback,
        skipReplication: options.skipReplication,
        onlyDb: options.onlyDb,
        onlyUser: options.onlyUser,
        onlyAddress: options.onlyAddress,
      });
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function addRewriteOptions(command: Command): Command {
  return command
    .option('--include-loopback', 'convert loopback-only rules (127.0.0.0/8, ::1, localhost, samehost) too')
    .option('--skip-replication', 'leave rules for the replication keyword as they are')
    .option('--only-db <name>', 'only rules whose database field names this (repeatable)', collect)
    .option('--only-user <name>', 'only rules whose user field names this (repeatable)', collect)
    .option('--only-address <addr>', 'only rules with exactly this address, as written (repeatable)', collect)
    .option('--pg-major <n>', 'read the file as this PostgreSQL major reads it (12-18; default 18)');
}

function addHbaCommands(program: Command): void {
  const hba = program
    .command('hba')
    .description('offline pg_hba.conf tools: check, rewrite, explain');
  addRewriteOptions(
    hba
      .command('check <file>')
      .description('list the rules that let remote clients in without TLS (exit 0 none, 3 some, 2 invalid file)'),
  )
    .addHelpText('after', '\nExamples:\n  pgssl hba check /etc/postgresql/16/main/pg_hba.conf --pg-major 16\n  pgssl hba check templates/pg_hba.conf.j2 --json')
    .action(async (file: string, options, command: Command) => {
      const { hbaCheckCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await hbaCheckCommand(file, { ...options, json: all.json, color: all.color });
    });
  addRewriteOptions(
    hba
      .command('rewrite <file>')
      .description('print the file with remote host rules turned into hostssl (only the keyword changes)')
      .option('--diff', 'print a unified diff instead of the file')
      .option('--write', 'replace the file (and changed include files) in place, atomically, after a backup'),
  )
    .addHelpText('after', '\nExamples:\n  pgssl hba rewrite pg_hba.conf --diff\n  pgssl hba rewrite pg_hba.conf --write --skip-replication')
    .action(async (file: string, options, command: Command) => {
      const { hbaRewriteCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      process.exitCode = await hbaRewriteCommand(file, { ...options, json: all.json, color: all.color });
    });
  addConnectionOptions(
    hba
      .command('explain')
      .description('which rule a connection matches, now and after the planned rewrite')
      .requiredOption('--user <name>', 'the database user connecting')
      .requiredOption('--db <name>', 'the database it asks for (replication for a physical standby)')
      .option('--addr <ip>', 'client address (omit for the local socket)')
      .option('--ssl', 'the client uses TLS')
      .option('--replication', 'a physical replication (walsender) connection')
      .option('--member-of <roles>', 'comma-separated roles the user belongs to (read from the server when connected)')
      .option('--hostname <name>', 'the client host name, for rules that name hosts')
      .option('--file <path>', 'pg_hba.conf to read; without it, ask the server for its hba_file')
      .option('--include-loopback', 'as in rewrite')
      .option('--skip-replication', 'as in rewrite')
      .option('--pg-major <n>', 'with --file: the major to read it as (default 18)'),
  )
    .addHelpText('after', '\nExamples:\n  pgssl hba explain --file pg_hba.conf --user app --db appdb --addr 10.1.2.3\n  sudo -u postgres pgssl hba explain --user replicator --db replication --replication --addr 10.0.0.2 --ssl')
    .action(async (options, command: Command) => {
      const { hbaExplainCommand } = await loadCommands();
      const all = command.optsWithGlobals();
      const memberOf = options.memberOf ? String(options.memberOf).split(',').filter(Boolean) : undefined;
      let { file, pgMajor } = options;
      let serverMemberOf: string[] | undefined;
      if (!file) {
        const { resolveConnectionTarget } = await loadCommands();
        const { withClient } = await loadCommands();
        const { readHbaContext } = await loadCommands();
        const context = await withClient(resolveConnectionTarget(connectionFlags(options)), (client) => readHbaContext(client, options.user));
        file = context.hbaFile;
        pgMajor = String(context.major);
        serverMemberOf = context.memberOf;
      }
      process.exitCode = await hbaExplainCommand({ ...options, file, pgMajor, memberOf: memberOf ?? serverMemberOf, json: all.json, color: all.color });
    });
}

/**
 * `--help` lists the choices, but the check is optionRules' (commander's own
 * would stop at the first bad flag instead of reporting all of them).
 */
function choices(option: InstanceType<typeof Option>, values: string[]): InstanceType<typeof Option> {
  return option.choices(values).argParser((value: string) => value);
}

/** The command as typed, without the program: `hba check`, `client-cert`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Before any action runs (so before connecting or writing): every option's
 * value against src/commands/optionRules.ts, all problems in one message,
 * exit 2 through commander's error path (which adds the --help line).
 */
async function checkOptions(_program: Command, action: Command): Promise<void> {
  const given: Record<string, string | string[] | boolean | undefined> = {};
  for (const option of action.options) if (option.long) given[option.long] = action.getOptionValue(option.attributeName());
  useCertBundle = certBundleCommands.has(commandPath(action));
  const { optionProblems, optionProblemsMessage } = await loadShared();
  const problems = optionProblems(commandPath(action), given);
  if (problems.length > 0) action.error(`error: ${optionProblemsMessage(problems)}`, { exitCode: exitUsage, code: 'pgssl.invalidOption' });
}

/**
 * The command as typed (`cert inspect`), read from argv itself: a parse error
 * may come before commander knows it. `pgssl` when no complete command was
 * named (`pgssl --json`, `pgssl hba --json`). Only subcommand names are
 * matched, so options and their values in between are skipped (the global
 * options take no value).
 */
function typedCommand(program: Command, argv: string[]): string {
  let command = program;
  const names: string[] = [];
  for (const arg of argv.slice(2)) {
    if (arg.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === arg);
    if (!sub) break;
    command = sub;
    names.push(sub.name());
  }
  return names.length > 0 && command.commands.length === 0 ? names.join(' ') : 'pgssl';
}

/** The entry points (bin/pgssl, the single executable's script) call this; loading the file alone runs nothing. */
export async function main(argv: string[]): Promise<void> {
  // `pgssl` alone on a terminal is the wizard (= pgssl enable asking every question).
  if (argv.length === 2 && process.stdin.isTTY && process.stdout.isTTY) argv = [...argv, 'enable'];
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // --json: one document for every outcome, also when no command printed one (src/commands/jsonReport.ts).
    const json = argv.slice(2).includes('--json');
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other parse error is bad usage (2).
      process.exitCode = error.exitCode === 0 ? 0 : exitUsage;
      if (json && process.exitCode !== 0) (await loadShared()).printJsonUsageFailure(typedCommand(program, argv), error.message);
      return;
    }
    const { reportError, printJsonFailureOnce } = await loadShared();
    if (json) printJsonFailureOnce(typedCommand(program, argv), error);
    process.exitCode = reportError(error);
  }
}
