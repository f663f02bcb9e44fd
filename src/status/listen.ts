/** listen_addresses, read as a DBA would. Pure. */
import { isLoopbackAddress } from '../hba/addresses.js';
export interface ListenView {
  addresses: string | null;
  localOnly: boolean;
  noTcp: boolean;
}


export function readListenAddresses(value: string | undefined): ListenView {
  if (value === undefined) return { addresses: null, localOnly: false, noTcp: false };
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return {
    addresses: value,
    noTcp: entries.length === 0,
    localOnly: entries.length > 0 && entries.every((entry) => isLoopbackAddress(entry)),
  };
}

/** The address to knock on for a TLS probe when the admin came in over the socket. */
export function probeAddressFor(view: ListenView): string | undefined {
  if (view.noTcp) return undefined;
  const first = (view.addresses ?? 'localhost').split(',')[0].trim();
  if (first === '*' || first === '0.0.0.0' || first === 'localhost') return '127.0.0.1';
  if (first === '::') return '::1';
  return first;
}
