import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandIPv6, isLoopbackAddress, prefixOfMask } from '../../src/hba/addresses.js';
import { keyPermissionProblem } from '../../src/files/keyPermissions.js';
import { probeAddressFor, readListenAddresses } from '../../src/status/listen.js';
import { comparePidFile } from '../../src/server/locality.js';

describe('isLoopbackAddress', () => {
  const cases: [string, string | null, boolean][] = [
    ['127.0.0.1/32', null, true],
    ['127.0.0.0/8', null, true],
    ['127.0.0.1', '255.255.255.255', true],
    ['127.0.0.0', '255.0.0.0', true],
    ['127.0.0.0', '254.0.0.0', false],
    ['126.0.0.0/7', null, false],
    ['::1/128', null, true],
    ['::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true],
    ['::0/0', null, false],
    ['localhost', null, true],
    ['samehost', null, true],
    ['samenet', null, false],
    ['all', null, false],
    ['0.0.0.0/0', null, false],
    ['10.0.0.0/8', null, false],
    ['db.example.com', null, false],
    ['.example.com', null, false],
  ];
  for (const [address, mask, expected] of cases) {
    it(`${address}${mask ? ' ' + mask : ''} → ${expected}`, () => assert.equal(isLoopbackAddress(address, mask), expected));
  }
  it('converts masks to prefix lengths and refuses non-contiguous masks', () => {
    assert.equal(prefixOfMask('255.255.255.0'), 24);
    assert.equal(prefixOfMask('255.0.255.0'), undefined);
    assert.equal(prefixOfMask('ffff:ffff::'), 32);
    assert.equal(expandIPv6('::ffff:1.2.3.4'), '0000:0000:0000:0000:0000:ffff:0102:0304');
  });
});

describe("keyPermissionProblem (PostgreSQL's rule for ssl_key_file)", () => {
  const server = 101;
  const cases: [string, number, number, boolean][] = [
    ['server-owned 0600', server, 0o600, true],
    ['server-owned 0400', server, 0o400, true],
    ['server-owned 0640', server, 0o640, false],
    ['server-owned 0604', server, 0o604, false],
    ['root-owned 0640', 0, 0o640, true],
    ['root-owned 0660', 0, 0o660, false],
    ['root-owned 0644', 0, 0o644, false],
    ['other owner 0600', 1234, 0o600, false],
  ];
  for (const [name, uid, mode, ok] of cases) {
    it(`${name} is ${ok ? 'accepted' : 'refused'}`, () => assert.equal(keyPermissionProblem({ uid, mode: 0o100000 | mode }, server) === undefined, ok));
  }
});

describe('listen_addresses', () => {
  it('knows local-only, none and wildcard', () => {
    assert.equal(readListenAddresses('localhost').localOnly, true);
    assert.equal(readListenAddresses('127.0.0.1, ::1').localOnly, true);
    assert.equal(readListenAddresses('*').localOnly, false);
    assert.equal(readListenAddresses('').noTcp, true);
    assert.equal(probeAddressFor(readListenAddresses('*')), '127.0.0.1');
    assert.equal(probeAddressFor(readListenAddresses('10.1.2.3,127.0.0.1')), '10.1.2.3');
    assert.equal(probeAddressFor(readListenAddresses('')), undefined);
  });
});

describe('comparePidFile', () => {
  const pidFile = '4242\n/var/lib/postgresql/15/main\n1700000000\n5432\n/var/run/postgresql\n*\n  1234  5678\nready\n';
  it('accepts the same port and start time (±2 s)', () => assert.deepEqual(comparePidFile(pidFile, 5432, 1700000000.7), { local: true }));
  it('refuses another port or start time', () => {
    assert.equal(comparePidFile(pidFile, 5433, 1700000000).local, false);
    assert.equal(comparePidFile(pidFile, 5432, 1700009999).local, false);
  });
});
