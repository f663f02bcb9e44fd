/**
 * `pgssl NAME …` builds only NAME's part of the commander program
 * (src/cli.cts, topLevelCommands). The table of names must say what each part
 * adds: a name missing from it would build the whole program (slower, still
 * right); a name listed under the wrong part would make that command unknown.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { pgsslBin } from '../support/cli.js';

const { buildProgram: programFor } = createRequire(import.meta.url)('../../src/cli.cjs') as { buildProgram(argv?: string[]): Command };
/** The program `pgssl ARGS…` runs with. */
const buildProgram = (...args: string[]) => programFor(['node', 'pgssl', ...args]);
const names = (program: Command) => program.commands.map((command) => command.name());

describe('the program built for the command typed', () => {
  const whole = names(buildProgram());
  it('every top-level command, built on its own, is there with its whole subtree', () => {
    for (const name of whole) {
      const part = buildProgram(name);
      assert.ok(names(part).includes(name), `pgssl ${name}: built without ${name} (has ${names(part).join(', ')})`);
      if (name !== 'completion') assert.ok(names(part).length < whole.length, `pgssl ${name}: built the whole program`);
      const full = buildProgram().commands.find((command) => command.name() === name)!;
      const alone = part.commands.find((command) => command.name() === name)!;
      assert.deepEqual(alone.commands.map((c) => c.name()), full.commands.map((c) => c.name()), `pgssl ${name}: its subcommands`);
      assert.deepEqual(alone.options.map((o) => o.flags), full.options.map((o) => o.flags), `pgssl ${name}: its options`);
    }
  });
  it('the parts together are the whole program, in --help order', () => {
    const seen = new Set<string>();
    for (const name of whole) for (const built of names(buildProgram(name))) seen.add(built);
    assert.deepEqual([...seen].sort(), [...whole].sort());
  });
  it('no name, an unknown one, completion and help: the whole program (suggestions, the completion script and help read every command)', () => {
    for (const typed of [[], ['enabel'], ['completion', 'bash'], ['help', 'status']]) assert.deepEqual(names(buildProgram(...typed)), whole, `pgssl ${typed.join(' ')}`);
  });
  it('the name typed: after the program\'s own options only; anything else before it answers at the top level (whole program)', () => {
    const built = (...args: string[]) => names(buildProgram(...args));
    assert.deepEqual(built('client-cert', 'alice', '--days', '30'), ['cert', 'client-cert', 'ca']);
    assert.deepEqual(built('--json', '--no-color', 'status', '-h', 'db1'), ['status']);
    assert.deepEqual(built('-V', 'status'), ['status']);
    for (const args of [['--json'], ['--help', 'status'], ['--bogus', 'status'], ['--json', '--help', 'enable']]) assert.deepEqual(built(...args), whole, args.join(' '));
  });
  it('pgssl --help status and pgssl --bogus status --help list every command, as pgssl --help does', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [pgsslBin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const help = run('--help');
    assert.equal(help.status, 0);
    assert.equal(run('--help', 'status').stdout, help.stdout);
    assert.equal(run('--bogus', 'status', '--help').stdout, help.stdout);
    assert.equal(run('-V', 'enable').stdout, run('-V').stdout);
  });
});
