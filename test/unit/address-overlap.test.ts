/** The netns harness's refusal to use addresses this machine already uses, on route tables given as data. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressConflicts, freeTestBlock, type MachineNetworks } from '../support/addressOverlap.js';

// What `ip -j -4 route show table all` / `ip -j -4 addr` print on a machine
// whose LAN is 192.0.2.0/24 and whose package registry is 203.0.113.80.
const documentationLan: MachineNetworks = {
  routes: [
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0', prefsrc: '192.0.2.2' },
    { type: 'local', dst: '127.0.0.0/8', dev: 'lo', table: 'local', prefsrc: '127.0.0.1' },
    { type: 'local', dst: '192.0.2.2', dev: 'eth0', table: 'local', prefsrc: '192.0.2.2' },
    { type: 'broadcast', dst: '192.0.2.255', dev: 'eth0', table: 'local', prefsrc: '192.0.2.2' },
  ],
  interfaces: [
    { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    { ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24 }] },
  ],
  reachable: [
    { address: '203.0.113.80', what: 'registry.npmjs.org' },
    { address: '10.255.255.53', what: 'a name server' },
  ],
};

describe('addressConflicts', () => {
  const cases: [string, MachineNetworks, string[], RegExp | null][] = [
    ['free addresses', documentationLan, ['198.51.100.1', '198.51.100.2'], null],
    ['inside the LAN route (and eth0\'s network)', documentationLan, ['192.0.2.9'], /192\.0\.2\.9 is inside the route 192\.0\.2\.0\/24 dev eth0/],
    ['the default gateway itself', documentationLan, ['192.0.2.1'], /192\.0\.2\.1 is the gateway of the route default dev eth0/],
    ['the registry, which no route names', documentationLan, ['203.0.113.80'], /203\.0\.113\.80 is registry\.npmjs\.org/],
    ['another address of the registry\'s /24 is fine with /32 addresses', documentationLan, ['203.0.113.81'], null],
    ['the name server', documentationLan, ['10.255.255.53'], /is a name server/],
    ['loopback', documentationLan, ['127.0.0.2'], /inside the route 127\.0\.0\.0\/8 dev lo table local/],
    ['not IPv4', documentationLan, ['::1'], /is not an IPv4 address/],
    [
      'a route of another table (VPN policy routing)',
      { ...documentationLan, routes: [...documentationLan.routes, { dst: '198.51.100.0/24', dev: 'wg0', table: '51820' }] },
      ['198.51.100.1'],
      /inside the route 198\.51\.100\.0\/24 dev wg0 table 51820/,
    ],
    [
      'a host route (no prefix length) is a /32',
      { ...documentationLan, routes: [{ dst: '198.51.100.7', dev: 'tun0' }] },
      ['198.51.100.7', '198.51.100.8'],
      /^198\.51\.100\.7 is inside the route 198\.51\.100\.7 dev tun0$/,
    ],
    [
      'the peer of a point-to-point address (another test run\'s veth)',
      { ...documentationLan, interfaces: [{ ifname: 'pgh1', addr_info: [{ family: 'inet', local: '198.51.100.1', address: '198.51.100.2', prefixlen: 32 }] }] },
      ['198.51.100.2'],
      /198\.51\.100\.2 is inside 198\.51\.100\.2\/32 \(peer of pgh1\)/,
    ],
  ];
  for (const [name, machine, candidates, expected] of cases) {
    it(name, () => {
      const conflicts = addressConflicts(candidates, machine);
      if (expected === null) assert.deepEqual(conflicts, []);
      else assert.ok(conflicts.some((c) => expected.test(c)), conflicts.join('\n') || '(no conflict)');
    });
  }
});

describe('freeTestBlock', () => {
  it('picks a /30 whose .1 and .2 collide with nothing, the hba rule covering both', () => {
    const first = () => 0; // always the first block still untried
    assert.deepEqual(freeTestBlock(documentationLan, first), { server: '198.51.100.1', client: '198.51.100.2', hbaNetwork: '198.51.100.0/30' });
    // With 198.51.100.0/24 taken too, it moves on to 203.0.113.0/24, past the registry's block.
    const busier: MachineNetworks = { ...documentationLan, routes: [...documentationLan.routes, { dst: '198.51.100.0/24', dev: 'eth1' }] };
    assert.deepEqual(freeTestBlock(busier, first), { server: '203.0.113.1', client: '203.0.113.2', hbaNetwork: '203.0.113.0/30' });
    const registryBlock: MachineNetworks = { ...busier, reachable: [{ address: '203.0.113.1', what: 'a registry' }] };
    assert.equal(freeTestBlock(registryBlock, first)?.server, '203.0.113.5');
  });
  it('returns nothing when every documentation range is in use', () => {
    const all: MachineNetworks = { routes: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'].map((dst) => ({ dst, dev: 'eth0' })), interfaces: [], reachable: [] };
    assert.equal(freeTestBlock(all), undefined);
  });
});
