/**
 * The watchdog of a confirm window: something that outlives this pgssl
 * process (and the ssh session around it) and reverts the run at the
 * deadline unless it was confirmed. With systemd as PID 1, a transient timer
 * (`systemd-run --on-active`); otherwise a detached child in a session of its
 * own, so the SIGHUP of a dropped ssh session (sent to its process group and
 * session) never reaches it. Both run the same hidden command,
 * `pgssl confirm-deadline --journal FILE` (commands/confirm.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import type { ConfirmWindow } from '../journal.js';

export type Watchdog = NonNullable<ConfirmWindow['watchdog']>;

/** The connection the watchdog uses, handed over in its environment (never argv: it may hold a password). */
export const watchdogTargetVariable = 'PGSSL_WATCHDOG_TARGET';

/** systemd manages this host: PID 1 is systemd and its runtime folder exists (sd_booted(3)). In a container without it, false. */
export function systemdRunning(): boolean {
  try {
    return existsSync('/run/systemd/system') && readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
  } catch {
    return false;
  }
}

/** How to run this very pgssl again: node and its script, or a single executable alone. */
function pgsslCommand(): string[] {
  const script = process.argv[1];
  return script && script !== process.execPath ? [process.execPath, script] : [process.execPath];
}

export function unitName(journalPath: string): string {
  return `pgssl-confirm-${basename(journalPath, '.json').replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/**
 * Starts the watchdog for the journal's window; returns what to record.
 * systemd's unit cannot be handed a password without writing it into the
 * unit's properties, which every user may read: a connection that needs one
 * from this process gets the detached child instead.
 */
export function startWatchdog(journalPath: string, window: ConfirmWindow, target: ConnectionTarget): Watchdog {
  const args = [...pgsslCommand(), 'confirm-deadline', '--journal', journalPath];
  if (systemdRunning() && target.password === undefined) {
    const unit = unitName(journalPath);
    const { password: _none, ...rest } = target;
    execFileSync('systemd-run', ['--quiet', '--collect', `--unit=${unit}`, `--on-active=${window.seconds}`, `--setenv=${watchdogTargetVariable}=${JSON.stringify(rest)}`, ...passThrough().map((v) => `--setenv=${v}`), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { kind: 'systemd', unit };
  }
  const child = spawn(args[0], args.slice(1), {
    // detached: setsid(2), its own session and process group; no terminal, no pipes to keep this process alive.
    detached: true,
    stdio: 'ignore',
    env: watchdogEnvironment(target),
  });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the confirm watchdog process');
  return { kind: 'process', pid: child.pid };
}

/**
 * This environment plus the connection, less the crash hook: it stops *this*
 * process at its N-th journal write, and the watchdog writes the same journal.
 */
function watchdogEnvironment(target: ConnectionTarget): NodeJS.ProcessEnv {
  const { PGSSL_TEST_AFTER_JOURNAL_WRITE: _hook, ...env } = process.env;
  return { ...env, [watchdogTargetVariable]: JSON.stringify(target) };
}

/** What the systemd unit needs from this environment (where the journals and binaries are). */
function passThrough(): string[] {
  return ['PGSSL_STATE_DIR', 'PGSSL_TEST_PGBIN', 'PATH', 'HOME'].flatMap((name) => (process.env[name] ? [`${name}=${process.env[name]}`] : []));
}

/** A process watchdog still running, checked by its command line (a pid can be reused). */
export function watchdogAlive(watchdog: Watchdog, journalPath: string): boolean {
  if (watchdog.kind === 'systemd') {
    try {
      return execFileSync('systemctl', ['is-active', `${watchdog.unit}.timer`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'active';
    } catch {
      return false;
    }
  }
  try {
    const argv = readFileSync(`/proc/${watchdog.pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('confirm-deadline') && argv.includes(journalPath);
  } catch {
    return false;
  }
}

/** Stops the watchdog (after a confirm, or a revert by someone else). Never throws: one that is gone is stopped. */
export function stopWatchdog(watchdog: Watchdog | undefined, journalPath: string): void {
  if (!watchdog || (watchdog.kind === 'process' && watchdog.pid === process.pid)) return;
  if (watchdog.kind === 'systemd') {
    try {
      execFileSync('systemctl', ['stop', `${watchdog.unit}.timer`, `${watchdog.unit}.service`], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    return;
  }
  if (!watchdogAlive(watchdog, journalPath)) return;
  try {
    process.kill(watchdog.pid, 'SIGTERM');
  } catch {
    // ended meanwhile
  }
}
