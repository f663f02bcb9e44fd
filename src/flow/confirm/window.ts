/**
 * The confirm window of `enable --confirm-within` (netplan try, Junos commit
 * confirmed): its deadline, and whether it is still open. Pure but for
 * reading the boot id. A window closes at its deadline, and at once when the
 * host rebooted inside it: a reboot kills the watchdog, and the deadline
 * alone cannot tell the next command that nobody confirmed in time.
 */
import { readFileSync } from 'node:fs';
import type { ConfirmWindow, Journal } from '../journal.js';

export type WindowVerdict = 'open' | 'deadline-passed' | 'rebooted';

/** The host's boot id (Linux); null where there is none: then only the deadline counts. */
export function currentBootId(path = '/proc/sys/kernel/random/boot_id'): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export function openWindow(seconds: number, now: Date, bootId: string | null): ConfirmWindow {
  return { state: 'pending', deadline: new Date(now.getTime() + seconds * 1000).toISOString(), seconds, bootId };
}

export function windowVerdict(window: ConfirmWindow, now: Date, bootId: string | null): WindowVerdict {
  if (window.bootId && bootId && window.bootId !== bootId) return 'rebooted';
  return now.getTime() >= Date.parse(window.deadline) ? 'deadline-passed' : 'open';
}

/** Why a closed window reverts, in the journal's and the DBA's words. */
export function revertReason(verdict: Exclude<WindowVerdict, 'open'>, window: ConfirmWindow): string {
  return verdict === 'rebooted'
    ? `the host rebooted before the deadline (${window.deadline}) and nobody confirmed the run (pgssl confirm)`
    : `the deadline ${window.deadline} passed without pgssl confirm`;
}

/**
 * Waiting for pgssl confirm: the window is pending and the run is still in
 * force (a run undone since, by rollback or by its own failure, has nothing
 * left to revert).
 */
export function isAwaitingConfirmation(journal: Journal): boolean {
  const { confirm, status } = journal.data;
  return confirm?.state === 'pending' && status !== 'undone' && status !== 'rolled-back';
}

/** Seconds left, for the countdown and the messages (0 once passed). */
export function secondsLeft(window: ConfirmWindow, now: Date): number {
  return Math.max(0, Math.ceil((Date.parse(window.deadline) - now.getTime()) / 1000));
}
