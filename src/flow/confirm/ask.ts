/**
 * The wizard's question: revert by itself unless confirmed? Asked only when
 * the DBA's own session comes over the network (TCP from a non-loopback
 * address): that is the path the pg_hba.conf rewrite may cut. Over the local
 * socket or loopback — an ssh session on the host — the rewrite cannot lock
 * the DBA out, and a countdown would only be in the way. The flag
 * (--confirm-within) works everywhere.
 */
import { isLoopbackAddress } from '../../hba/addresses.js';
import type { EnableOptions } from '../enable/options.js';

export const wizardConfirmSeconds = 120;

export function cutsOwnPath(ownClientAddr: string | null): boolean {
  return ownClientAddr !== null && !isLoopbackAddress(ownClientAddr);
}

export async function chooseConfirmWindow(options: Pick<EnableOptions, 'confirmWithin' | 'prompter' | 'yes'>, ownClientAddr: string | null, willChangeHba: boolean): Promise<number | undefined> {
  if (options.confirmWithin !== undefined || !willChangeHba || options.yes || !options.prompter.interactive || !cutsOwnPath(ownClientAddr)) return options.confirmWithin;
  const wanted = await options.prompter.confirm({
    message: `You are connected over the network (from ${ownClientAddr}), the path this change may cut. Revert everything by itself unless you confirm within ${wizardConfirmSeconds} s from a new session?`,
    flag: '--confirm-within SECONDS',
    default: true,
  });
  return wanted ? wizardConfirmSeconds : undefined;
}
