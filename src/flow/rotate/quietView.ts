/**
 * cron and systemd timers want silence when there is nothing to do: with
 * --if-expiring-within or --check, what rotate says is held back until it
 * knows whether the certificate is due, then shown (due, or --verbose) or
 * dropped (not due).
 */
import type { EnableView } from '../../ui/enableView.js';

export interface HeldView extends EnableView {
  /** Show what was held, and pass everything through from now on. */
  release(): void;
  /** Forget what was held (it stays held back: the caller is done). */
  drop(): void;
}

export function heldView(view: EnableView, hold: boolean): HeldView {
  let held: (() => void)[] | undefined = hold ? [] : undefined;
  const pass = <A extends unknown[]>(call: (...args: A) => void) => (...args: A) => (held ? held.push(() => call(...args)) : call(...args));
  return {
    step: pass(view.step),
    detail: pass(view.detail),
    diff: pass(view.diff),
    ok: pass(view.ok),
    warn: pass(view.warn),
    fail: pass(view.fail),
    release() {
      const calls = held ?? [];
      held = undefined;
      for (const call of calls) call();
    },
    drop() {
      held = [];
    },
  };
}
