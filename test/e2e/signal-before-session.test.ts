/**
 * A stop signal before the admin session is open ends pgssl at once: nothing
 * has changed yet, so there is nothing to finish or undo (src/flow/session.ts).
 * The "server" accepts the connection and never answers, so pgssl is waiting
 * in its connect when the signal comes; without this it would wait for pg's
 * connect timeout, or forever at a password prompt.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { pgsslBin } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

describe('a stop signal while the first connection is made', () => {
  for (const [command, signal] of [
    ['enable', 'SIGTERM'],
    ['disable', 'SIGHUP'],
    ['rotate', 'SIGTERM'],
  ] as const) {
    it(`${command}: ${signal} ends it at once, with nothing written`, async () => {
      const sockets: Socket[] = [];
      let accepted!: () => void;
      const connected = new Promise<void>((resolve) => (accepted = resolve));
      const silent = createServer((socket) => {
        sockets.push(socket);
        accepted();
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      const state = tempDir('pgssl-signal-state');
      try {
        const child = spawn(process.execPath, [pgsslBin, command, '--yes', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-w'], {
          env: { PATH: process.env.PATH, HOME: state, PGSSL_STATE_DIR: state, PGCONNECT_TIMEOUT: '30' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
        await connected;
        child.kill(signal);
        const end = await Promise.race([ended, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 5_000))]);
        if (end === 'still running') {
          child.kill('SIGKILL');
          assert.fail(`pgssl ${command} went on for 5 s after ${signal}: ${stderr}`);
        }
        assert.equal(end.signal, signal, `ended by the signal itself, not after a stop (${JSON.stringify(end)}): ${stderr}`);
        assert.doesNotMatch(stderr, /stopping after the current action/);
        assert.deepEqual(readdirSync(state), [], 'no state folder content: no journal, no lock file');
      } finally {
        for (const socket of sockets) socket.destroy();
        silent.close();
      }
    });
  }
});
