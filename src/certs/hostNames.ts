/** This host's name, FQDN and addresses, for the certificate's default names. Reads only; never fails. */
import { promises as dns } from 'node:dns';
import { hostname, networkInterfaces } from 'node:os';

export async function localHostNames(timeoutMs = 1000): Promise<{ hostname: string; fqdn?: string; interfaceAddresses: string[] }> {
  const name = hostname();
  const interfaceAddresses = Object.values(networkInterfaces())
    .flat()
    .filter((i): i is NonNullable<typeof i> => Boolean(i) && !i!.internal && !i!.address.startsWith('fe80:'))
    .map((i) => i.address);
  const fqdn = await Promise.race([
    (async () => {
      const { address } = await dns.lookup(name);
      return (await dns.lookupService(address, 0)).hostname;
    })().catch(() => undefined),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
  ]);
  return { hostname: name, fqdn: fqdn && fqdn !== name ? fqdn : undefined, interfaceAddresses };
}
