/**
 * A real remote client for tests: a network namespace joined to the host by
 * a veth pair with point-to-point /32 addresses (`ip addr add A peer B`), so
 * the only routes it adds are to those two addresses. They come from a /30
 * of the documentation ranges that overlaps no route, address, gateway, name
 * server or registry of this machine (addressOverlap.ts); when there is none,
 * or no root, or no `ip netns`, the test is skipped with the reason.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { addressConflicts, freeTestBlock, type IpInterface, type IpRoute, type MachineNetworks } from './addressOverlap.js';

export interface RemoteClient {
  /** The host's end, for listen_addresses. */
  serverAddress: string;
  /** The client's end, as the server sees it. */
  clientAddress: string;
  /** A /30 holding both, for a pg_hba.conf rule. */
  hbaNetwork: string;
  /** Runs a program inside the client's namespace. */
  run(program: string, args: string[], options?: { env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string>;
}

// Hosts the machine must still reach while a test runs (npm ci, apt-get).
const dependedOn = ['registry.npmjs.org', 'deb.debian.org'];

/** This machine's IPv4 routes (every table), addresses, name servers and registries. */
export async function machineNetworks(): Promise<MachineNetworks> {
  const ipJson = <T>(...args: string[]) => JSON.parse(execFileSync('ip', ['-j', '-4', ...args], { encoding: 'utf8' }) || '[]') as T;
  const reachable: MachineNetworks['reachable'] = [];
  try {
    for (const line of readFileSync('/etc/resolv.conf', 'utf8').split('\n')) {
      const match = /^\s*nameserver\s+(\S+)/.exec(line);
      if (match) reachable.push({ address: match[1], what: 'a name server (/etc/resolv.conf)' });
    }
  } catch {}
  for (const host of dependedOn) {
    try {
      for (const { address } of await lookup(host, { all: true, family: 4 })) reachable.push({ address, what: `${host} (getent ahosts ${host})` });
    } catch {} // not resolvable here: nothing to protect
  }
  return { routes: ipJson<IpRoute[]>('route', 'show', 'table', 'all'), interfaces: ipJson<IpInterface[]>('addr'), reachable };
}

/**
 * Runs `body` with a client in its own network namespace, then removes the
 * namespace and the veth pair (also when body throws). Skips the test, with
 * the reason, where that cannot be done safely.
 */
export async function withRemoteClient(t: TestContext, body: (client: RemoteClient) => Promise<void>, addresses?: { server: string; client: string; hbaNetwork: string }): Promise<void> {
  if (process.getuid?.() !== 0) return t.skip('needs root to create a network namespace');
  const machine = await machineNetworks();
  let block = addresses;
  if (block) {
    const conflicts = addressConflicts([block.server, block.client], machine);
    if (conflicts.length > 0) return t.skip(`refusing to put test addresses on this machine: ${conflicts.join('; ')}`);
  } else {
    block = freeTestBlock(machine);
    if (!block) return t.skip('every /30 of 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 overlaps a route or address of this machine');
  }
  const id = randomBytes(3).toString('hex');
  const ns = `pgssl-${id}`;
  const hostIf = `pgh${id}`;
  const clientIf = `pgc${id}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    ip('netns', 'add', ns);
  } catch (error) {
    return t.skip(`ip netns is not available here: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', clientIf);
    ip('link', 'set', clientIf, 'netns', ns);
    ip('addr', 'add', block.server, 'peer', block.client, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', block.client, 'peer', block.server, 'dev', clientIf);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', clientIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    await body({
      serverAddress: block.server,
      clientAddress: block.client,
      hbaNetwork: block.hbaNetwork,
      run: (program, args, options = {}) => spawnSync('ip', ['netns', 'exec', ns, program, ...args], { encoding: 'utf8', timeout: options.timeout ?? 20_000, env: options.env }),
    });
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', hostIf]); // gone with the namespace's end already, unless that step failed
  }
}
