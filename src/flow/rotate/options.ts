/** What `pgssl rotate` is asked to do: the flags, or the wizard's answers, as one value. */
import type { KeySpec } from '../../certs/keys.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import type { EnableView } from '../../ui/enableView.js';
import type { Prompter } from '../../ui/prompter.js';
import type { CertificateSource } from '../certificateStep.js';

export interface RotateOptions {
  target: ConnectionTarget;
  /** undefined: pgssl's CA (the same one that issued the certificate in force). */
  source?: CertificateSource;
  san: string[];
  days: number;
  /** undefined: the key type of the certificate in force. */
  key?: KeySpec;
  certDir?: string;
  allowNameMismatch: boolean;
  /** Rotate only when the served certificate expires within this many days. */
  ifExpiringWithin?: number;
  /** Change nothing: exit 0 not due, 3 due (within ifExpiringWithin, default 30 days). */
  check: boolean;
  /** Also say "not due" (cron and timers get silence otherwise). */
  verbose: boolean;
  /** rotate --ca: begin the CA overlap, or (finish) end it. */
  ca?: { finish: boolean };
  dryRun: boolean;
  yes: boolean;
  stateDir?: string;
  prompter: Prompter;
  view: EnableView;
}

/** --check without --if-expiring-within: status's warning threshold. */
export const defaultCheckDays = 30;
