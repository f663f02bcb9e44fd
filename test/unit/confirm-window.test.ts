import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cutsOwnPath } from '../../src/flow/confirm/ask.js';
import { currentBootId, openWindow, revertReason, secondsLeft, windowVerdict } from '../../src/flow/confirm/window.js';
import { tempDir } from '../support/tempDir.js';

describe('confirm window: deadline and reboot', () => {
  const opened = new Date('2026-12-01T10:00:00.000Z');
  const window = openWindow(30, opened, 'boot-a');

  it('the deadline is absolute: opened + seconds', () => {
    assert.equal(window.deadline, '2026-12-01T10:00:30.000Z');
    assert.equal(window.state, 'pending');
    assert.equal(window.bootId, 'boot-a');
  });

  it('open before the deadline, closed at and after it', () => {
    // [seconds after opening, verdict]
    const cases: [number, string][] = [
      [0, 'open'],
      [29.999, 'open'],
      [30, 'deadline-passed'],
      [3600, 'deadline-passed'],
    ];
    for (const [after, verdict] of cases) assert.equal(windowVerdict(window, new Date(opened.getTime() + after * 1000), 'boot-a'), verdict, `${after} s`);
  });

  it('another boot id closes it at once, even before the deadline; an unknown one leaves it to the deadline', () => {
    assert.equal(windowVerdict(window, opened, 'boot-b'), 'rebooted');
    assert.equal(windowVerdict(window, opened, null), 'open');
    assert.equal(windowVerdict({ ...window, bootId: null }, opened, 'boot-b'), 'open');
  });

  it('says why it reverts, and how long is left', () => {
    assert.match(revertReason('deadline-passed', window), /deadline 2026-12-01T10:00:30.000Z passed without pgssl confirm/);
    assert.match(revertReason('rebooted', window), /host rebooted before the deadline/);
    assert.equal(secondsLeft(window, new Date(opened.getTime() + 10_500)), 20);
    assert.equal(secondsLeft(window, new Date(opened.getTime() + 60_000)), 0);
  });

  it('reads the boot id from the file, null without one', () => {
    const dir = tempDir('pgssl-boot');
    const file = join(dir, 'boot_id');
    writeFileSync(file, 'f00d-1\n');
    assert.equal(currentBootId(file), 'f00d-1');
    assert.equal(currentBootId(join(dir, 'missing')), null);
  });

  it('the wizard offers it only when the session comes over the network', () => {
    assert.equal(cutsOwnPath(null), false, 'the local socket');
    assert.equal(cutsOwnPath('127.0.0.1'), false);
    assert.equal(cutsOwnPath('::1'), false);
    assert.equal(cutsOwnPath('198.51.100.7'), true);
    assert.equal(cutsOwnPath('2001:db8::7'), true);
  });
});
