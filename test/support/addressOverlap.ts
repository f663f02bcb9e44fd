/**
 * Whether test addresses would collide with the machine's own networks (pure;
 * netns.ts reads the tables with `ip -j`). The documentation ranges
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are not safe by
 * themselves: on some machines they hold the default gateway or a package
 * registry, and a test that puts one on a veth cuts the machine off.
 */

/** One entry of `ip -j -4 route show table all`, the fields used here. */
export interface IpRoute {
  dst: string; // "default", "10.0.0.0/8", "10.1.2.3"
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  type?: string;
  table?: string;
}

/** One entry of `ip -j -4 addr`, the fields used here. */
export interface IpInterface {
  ifname: string;
  addr_info?: { family?: string; local?: string; address?: string; prefixlen?: number }[];
}

export interface MachineNetworks {
  routes: IpRoute[];
  interfaces: IpInterface[];
  /** Addresses the machine talks to that no route names by itself: name servers, the package registries. */
  reachable: { address: string; what: string }[];
}

interface Ipv4Network {
  base: number;
  prefix: number;
}

export function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function network(text: string, prefix = 32): Ipv4Network | undefined {
  const [address, length] = text.split('/');
  const base = ipv4ToNumber(address);
  const bits = length === undefined ? prefix : Number(length);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: base - (base % size), prefix: bits };
}

function contains(net: Ipv4Network, address: number): boolean {
  const size = 2 ** (32 - net.prefix);
  return address >= net.base && address < net.base + size;
}

/**
 * Why these addresses must not be used here (empty: they are free): inside a
 * route's destination (the default route aside: it covers everything and is
 * what the gateway check is for), inside an interface's address or peer
 * network, or equal to a gateway, a name server or a registry.
 */
export function addressConflicts(candidates: string[], machine: MachineNetworks): string[] {
  const conflicts: string[] = [];
  for (const candidate of candidates) {
    const address = ipv4ToNumber(candidate);
    if (address === undefined) {
      conflicts.push(`${candidate} is not an IPv4 address`);
      continue;
    }
    for (const route of machine.routes) {
      const via = `${route.dev ? ` dev ${route.dev}` : ''}${route.table && route.table !== 'main' ? ` table ${route.table}` : ''}`;
      if (route.dst !== 'default') {
        const net = network(route.dst);
        if (net && contains(net, address)) conflicts.push(`${candidate} is inside the route ${route.dst}${via}`);
      }
      if (route.gateway === candidate) conflicts.push(`${candidate} is the gateway of the route ${route.dst}${via}`);
      if (route.prefsrc === candidate) conflicts.push(`${candidate} is the source address of the route ${route.dst}${via}`);
    }
    for (const iface of machine.interfaces) {
      for (const info of iface.addr_info ?? []) {
        if (info.family !== undefined && info.family !== 'inet') continue;
        for (const [field, text] of [['address', info.local], ['peer', info.address]] as const) {
          if (!text) continue;
          // A peer address names one host; the local one a whole network of prefixlen.
          const net = network(text, field === 'peer' ? 32 : info.prefixlen ?? 32);
          if (net && contains(net, address)) conflicts.push(`${candidate} is inside ${text}/${net.prefix} (${field} of ${iface.ifname})`);
        }
      }
    }
    for (const { address: used, what } of machine.reachable) if (used === candidate) conflicts.push(`${candidate} is ${what}`);
  }
  return conflicts;
}

/**
 * A /30 for the test: the server at .1, the client at .2 of a block in the
 * documentation ranges that collides with nothing here, tried in an order
 * that `pick` shuffles (test runs on one machine at once take different
 * blocks). undefined when every block collides.
 */
export function freeTestBlock(machine: MachineNetworks, pick: (count: number) => number = (count) => Math.floor(Math.random() * count)): { server: string; client: string; hbaNetwork: string } | undefined {
  const blocks: number[] = [];
  for (const range of ['198.51.100.0', '203.0.113.0', '192.0.2.0']) for (let offset = 0; offset < 256; offset += 4) blocks.push(ipv4ToNumber(range)! + offset);
  while (blocks.length > 0) {
    const [base] = blocks.splice(pick(blocks.length), 1);
    const server = numberToIpv4(base + 1);
    const client = numberToIpv4(base + 2);
    if (addressConflicts([server, client], machine).length === 0) return { server, client, hbaNetwork: `${numberToIpv4(base)}/30` };
  }
  return undefined;
}
