/**
 * `pgssl completion bash|zsh`, loaded into a real bash and driven the way
 * readline drives it (COMP_WORDS / COMP_CWORD, then COMPREPLY read back);
 * the zsh script syntax-checked with `zsh -n` and its command-line walker run
 * in a real zsh. And no drift: for every command the script knows, its flags
 * are exactly those `pgssl <command> --help` prints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runPgssl } from '../support/cli.js';
import { cleanEnv } from '../support/cluster.js';
import { tempDir } from '../support/tempDir.js';

const work = tempDir('pgssl-completion');
const bashScript = join(work, 'pgssl.bash');
const zshScript = join(work, '_pgssl');

/** COMPREPLY after completing the last of `words` (the words after `pgssl`), in a bash that sourced the script. */
function bashComplete(words: string[], cwd = work): string[] {
  const all = ['pgssl', ...words];
  const program = `source ${JSON.stringify(bashScript)}
COMP_WORDS=(${all.map(shellQuote).join(' ')})
COMP_CWORD=${all.length - 1}
COMP_LINE=${shellQuote(all.join(' '))}
COMP_POINT=\${#COMP_LINE}
_pgssl
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { cwd, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '', 'the completion function prints no errors');
  return result.stdout.split('\n').filter(Boolean);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function zshPresent(): boolean {
  return spawnSync('zsh', ['--version']).status === 0;
}

describe('pgssl completion', () => {
  before(async () => {
    for (const [shell, file] of [['bash', bashScript], ['zsh', zshScript]]) {
      const r = await runPgssl(['completion', shell], { env: cleanEnv() });
      assert.equal(r.code, 0, r.stderr);
      writeFileSync(file, r.stdout);
    }
  });

  it('bash: a subcommand from its first letters (pgssl ro → rollback rotate)', () => {
    assert.deepEqual(bashComplete(['ro']).sort(), ['rollback', 'rotate']);
  });

  it('bash: a flag of that subcommand (pgssl rotate --if → --if-expiring-within)', () => {
    assert.deepEqual(bashComplete(['rotate', '--if']), ['--if-expiring-within']);
  });

  it('bash: nested subcommands, and their own flags', () => {
    assert.deepEqual(bashComplete(['hba', '']).sort(), ['check', 'explain', 'help', 'rewrite']);
    assert.deepEqual(bashComplete(['hba', 'rewrite', '--d']), ['--diff']);
    assert.deepEqual(bashComplete(['ca', 'i']), ['init']);
  });

  it('bash: choices of a flag, and of an argument', () => {
    assert.deepEqual(bashComplete(['enable', '--key-type', '']), ['ecdsa', 'rsa']);
    assert.deepEqual(bashComplete(['rotate', '--key-type', 'e']), ['ecdsa']);
    assert.deepEqual(bashComplete(['status', '--format', 'p']), ['prometheus']);
    assert.deepEqual(bashComplete(['completion', '']), ['bash', 'zsh']);
    assert.deepEqual(bashComplete(['help', 'st']), ['status']);
  });

  it('bash: a flag value is skipped, not taken for a subcommand; global flags work before the subcommand', () => {
    assert.deepEqual(bashComplete(['status', '-h', 'rotate', '--js']), ['--json'], '-h takes a value: "rotate" is the host here');
    assert.deepEqual(bashComplete(['--json', 'st']), ['status']);
    assert.deepEqual(bashComplete(['status', '-p', '']), [], 'a port: nothing to offer');
  });

  it('bash: files for file arguments and file flags, folders for folder flags', () => {
    const dir = join(work, 'certs');
    mkdirSync(join(dir, 'server.d'), { recursive: true });
    writeFileSync(join(dir, 'server.crt'), '');
    assert.deepEqual(bashComplete(['cert', 'inspect', 'certs/ser']).sort(), ['certs/server.crt', 'certs/server.d']);
    assert.deepEqual(bashComplete(['enable', '--cert-file', 'certs/server.c']), ['certs/server.crt']);
    assert.deepEqual(bashComplete(['enable', '--cert-dir', 'certs/ser']), ['certs/server.d']);
  });

  it('no drift: every command the script knows offers exactly the flags its --help lists', async () => {
    const paths = commandPaths();
    assert.ok(paths.includes('hba check') && paths.includes('cert inspect') && paths.includes('ca init'), paths.join(', '));
    for (const path of paths.filter((p) => p !== 'help' && !p.endsWith(' help'))) {
      const words = path === '' ? [] : path.split(' ');
      const help = await runPgssl([...words, '--help'], { env: cleanEnv() });
      assert.equal(help.code, 0, help.stderr);
      const listed = new Set(optionsSection(help.stdout));
      // --json and --no-color are the program's: its --help lists them, a subcommand's does not.
      const offered = bashComplete([...words, '-']).filter((f) => path === '' || (f !== '--json' && f !== '--no-color'));
      assert.deepEqual(new Set(offered), listed, `pgssl ${path}`);
    }
  });

  it('zsh: the script parses (zsh -n), and its walker gives the same answers in a real zsh', (t) => {
    if (!zshPresent()) return t.skip('zsh is not installed (.ci/run installs it)');
    const syntax = spawnSync('zsh', ['-n', zshScript], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    const candidates = (words: string[]) => {
      const program = `autoload -Uz compinit && compinit -u -D && source ${shellQuote(zshScript)} && _pgssl_candidates ${words.map(shellQuote).join(' ')}`;
      const r = spawnSync('zsh', ['-f', '-c', program], { cwd: work, encoding: 'utf8', env: { ...cleanEnv(), HOME: work } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.ok(['rollback', 'rotate'].every((c) => candidates(['ro']).includes(c)));
    assert.ok(candidates(['rotate', '--if']).includes('--if-expiring-within'));
    assert.deepEqual(candidates(['enable', '--key-type', '']), ['ecdsa', 'rsa']);
    assert.deepEqual(candidates(['hba', 'check', '']), ['@files']);
  });

  it('an unknown shell: exit 2, naming the choices', async () => {
    const r = await runPgssl(['completion', 'fish'], { env: cleanEnv() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are bash, zsh/);
    assert.equal(r.stdout, '');
  });
});

/** Every command path the bash script knows, by walking its own subcommand table in bash. */
function commandPaths(): string[] {
  const program = `source ${JSON.stringify(bashScript)}
walk() { local sub; printf '%s\\n' "$1"; for sub in $(_pgssl_subcommands "$1"); do walk "\${1:+$1 }$sub"; done; }
walk ''`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

/** The flags of the "Options:" section of commander's --help text. */
function optionsSection(help: string): string[] {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S.*:$/m)[0] ?? '';
  return [...section.matchAll(/^ {2}(-[^\s,]+)(?:, (--[^\s]+))?/gm)].flatMap((m) => [m[1], m[2]].filter(Boolean) as string[]);
}
