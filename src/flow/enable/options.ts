/** What `pgssl enable` is asked to do: the flags, or the wizard's answers, as one value. */
import type { KeyPairPem, KeySpec } from '../../certs/keys.js';
import { ExitCode, PgsslError } from '../../errors.js';
import type { RewriteOptions } from '../../hba/rewrite.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import type { EnableView } from '../../ui/enableView.js';
import type { Prompter } from '../../ui/prompter.js';
import type { CertificateSource } from '../certificateStep.js';

export interface EnableOptions {
  target: ConnectionTarget;
  source?: CertificateSource;
  san?: string[];
  days: number;
  /** Key of a new server certificate (and of pgssl's CA when it is created now). */
  key: KeySpec;
  certDir?: string;
  allowNameMismatch: boolean;
  minTls: 'TLSv1.2' | 'TLSv1.3';
  keepCiphers: boolean;
  rewrite: RewriteOptions;
  /** undefined: ask (interactive) or keep them (--yes). */
  terminateNonSsl?: boolean;
  dryRun: boolean;
  yes: boolean;
  /** Stop before any change when a client seen without TLS would be refused (--require-ready). */
  requireReady?: boolean;
  /** From PGSSL_STATE_DIR / XDG; undefined: the data directory owner's (see files/stateDir.ts). */
  stateDir?: string;
  walsenderWaitMs: number;
  /** --confirm-within SECONDS: keep the run only if `pgssl confirm` comes before the deadline (flow/confirm/). */
  confirmWithin?: number;
  prompter: Prompter;
  view: EnableView;
  /** RSA keys started before the modules loaded (cli.cts); unused ones are dropped. */
  prewarmedKeys?: Promise<KeyPairPem>[];
}

/** Verification failed and the run was undone: exit 3. */
export class VerificationFailed extends PgsslError {
  constructor(message: string) {
    super(message, ExitCode.checkFailed);
  }
}
