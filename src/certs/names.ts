/**
 * The names a server certificate should carry so that clients can use
 * sslmode=verify-full: host name, FQDN, what listen_addresses exposes, and
 * what the DBA adds with --san. Pure.
 */
import { isIP } from 'node:net';

export interface NameSources {
  hostname: string;
  fqdn?: string;
  listenAddresses?: string;
  /** The host's own non-internal addresses, used when listening on '*'. */
  interfaceAddresses?: string[];
  extra?: string[];
}

export function defaultServerNames(sources: NameSources): string[] {
  const names: string[] = [];
  const add = (name: string | undefined) => {
    if (!name) return;
    const entry = isIP(name) ? `IP:${name}` : `DNS:${name.toLowerCase()}`;
    if (!names.includes(entry)) names.push(entry);
  };
  add(sources.hostname);
  if (sources.fqdn && sources.fqdn.includes('.')) add(sources.fqdn);
  for (const raw of (sources.listenAddresses ?? 'localhost').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (raw === '*' || raw === '0.0.0.0' || raw === '::') {
      for (const address of sources.interfaceAddresses ?? []) add(address);
      add('localhost');
      add('127.0.0.1');
      add('::1');
    } else if (raw === 'localhost') {
      add('localhost');
      add('127.0.0.1');
      add('::1');
    } else {
      add(raw);
      if (raw.startsWith('127.')) add('localhost');
    }
  }
  for (const extra of sources.extra ?? []) add(extra.replace(/^(DNS|IP):/i, ''));
  return names;
}

/** The certificate's common name: the FQDN if known, else the host name. */
export function commonNameFor(sources: NameSources): string {
  return sources.fqdn && sources.fqdn.includes('.') ? sources.fqdn : sources.hostname;
}
