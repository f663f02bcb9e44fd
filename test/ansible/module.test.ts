/**
 * The role module's pure logic (argv per state, "would change" from a dry-run
 * report, the before/after diff, failure messages): Python's unittest on
 * test/ansible/python/test_pgssl_module.py, with the python ansible-core runs on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../support/pgbin.js';
import { ansibleAvailable } from './support/playbook.js';

it('the module\'s unit tests pass', { skip: ansibleAvailable() ? false : 'ansible-core is not installed' }, () => {
  const result = spawnSync('/usr/bin/python3', ['-B', join(repoRoot, 'test', 'ansible', 'python', 'test_pgssl_module.py'), '-v'], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /Ran 1\d tests/);
  assert.match(result.stderr, /^OK$/m);
});

it('ansible/site.yml, the example play, passes ansible-playbook --syntax-check with the role beside it', { skip: ansibleAvailable() ? false : 'ansible-core is not installed' }, () => {
  const result = spawnSync('ansible-playbook', ['--syntax-check', '-i', 'localhost,', join(repoRoot, 'ansible', 'site.yml')], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8', ANSIBLE_NOCOLOR: '1' } });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /playbook: .*site\.yml/);
});
