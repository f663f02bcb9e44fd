/**
 * Stop requests while a plan runs: Ctrl-C (SIGINT), SIGTERM (systemd, kill)
 * and SIGHUP (the ssh session dropped) alike. The run stops after the
 * current action and undoes in reverse; it is never killed half-way through
 * a write. While the undo runs, further signals are noted and ignored.
 */
import { Cancelled } from '../ui/prompter.js';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const signals: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** A stop asked for by a signal: the run undoes what it changed. */
export class Stopped extends Cancelled {
  constructor(readonly signal: StopSignal) {
    super();
    this.message = `stopped by ${signal}`;
    this.name = 'Stopped';
  }
}

export interface StopWatch {
  /** Throws Stopped when a signal came in since the last action. */
  checkpoint(): void;
  readonly requested: StopSignal | undefined;
  /** From now on signals are only noted (the undo must finish). */
  holdOff(): void;
  release(): void;
}

export function watchStopSignals(onSignal: (signal: StopSignal, duringUndo: boolean) => void = () => undefined): StopWatch {
  let requested: StopSignal | undefined;
  let holding = false;
  const handler = (signal: StopSignal) => {
    if (!holding) requested ??= signal;
    onSignal(signal, holding);
  };
  for (const signal of signals) process.on(signal, handler);
  return {
    checkpoint() {
      if (requested && !holding) throw new Stopped(requested);
    },
    get requested() {
      return requested;
    },
    holdOff() {
      holding = true;
    },
    release() {
      for (const signal of signals) process.off(signal, handler);
    },
  };
}
