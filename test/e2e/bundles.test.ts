/**
 * Which bundle a command loads (src/cli.cts, scripts/bundle.mjs): the
 * certificate commands that need no server run from dist/bundle/certs.cjs
 * alone, without commands.cjs, pg or the prompts (and of node-forge only its ASN.1 layer) (issue 9: loading code was
 * most of client-cert's start-up); their errors are still reported as
 * pgssl's own (exit 2, the message), not as "unexpected error", since the
 * option check, the command and the report come from the same bundle.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pgsslBin } from '../support/cli.js';
import { cleanEnv } from '../support/cluster.js';
import { tempDir } from '../support/tempDir.js';

const work = tempDir('pgssl-bundles');
const loadedList = join(work, 'loaded.cjs');
// Preloaded into the CLI's process: prints every file require() loaded, at exit.
writeFileSync(loadedList, "const M = require('module'); const seen = new Set(); const load = M._load; M._load = function (request, parent) { try { seen.add(M._resolveFilename(request, parent)); } catch {} return load.apply(this, arguments); }; process.on('exit', () => process.stderr.write(`loaded: ${[...seen].join(' ')}\\n`));\n");

function run(args: string[]) {
  const result = spawnSync(process.execPath, ['--require', loadedList, pgsslBin, ...args], { env: cleanEnv({ HOME: work, PGSSL_STATE_DIR: join(work, 'state') }), encoding: 'utf8', timeout: 60_000 });
  const loaded = /^loaded: (.*)$/m.exec(result.stderr)?.[1].split(' ') ?? [];
  return { ...result, loaded, bundles: loaded.filter((file) => file.includes('/dist/bundle/')).map((file) => file.slice(file.lastIndexOf('/') + 1)) };
}

describe('the certificate commands load certs.cjs only', () => {
  it('ca init, client-cert and cert inspect: certs.cjs, no commands.cjs, pg or prompts, of forge only its ASN.1 layer', () => {
    const ca = join(work, 'ca');
    // cert inspect exits 3 here: a client certificate is a problem as a server certificate.
    for (const [args, status] of [[['ca', 'init', '--dir', ca], 0], [['client-cert', 'alice', '--dir', ca, '--out-dir', work], 0], [['cert', 'inspect', join(work, 'alice.crt')], 3]] as const) {
      const r = run([...args]);
      assert.equal(r.status, status, `pgssl ${args.join(' ')}: ${r.stderr}`);
      assert.deepEqual(r.bundles, ['certs.cjs'], `pgssl ${args.join(' ')}`);
      assert.deepEqual(r.loaded.filter((file) => /node_modules\/(pg|@inquirer)\//.test(file)), [], `pgssl ${args.join(' ')} loads no server or prompt code`);
      // The certificates are DER built on node-forge's ASN.1 layer (src/certs/der.ts): that, never the rest of forge.
      const forgeBeyondAsn1 = r.loaded.filter((file) => file.includes('node_modules/node-forge/') && !/node-forge\/lib\/(asn1|util|oids|forge|baseN)\.js$/.test(file));
      assert.deepEqual(forgeBeyondAsn1, [], `pgssl ${args.join(' ')} loads only forge's ASN.1 layer`);
      if (args[0] === 'cert') assert.match(r.stdout, /CN=alice/);
    }
  });
  it('their errors are reported as pgssl errors: exit 2 and the message, nothing written', () => {
    const r = run(['client-cert', 'bob', '--dir', join(work, 'no-ca'), '--out-dir', work]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^pgssl: no pgssl CA in .*no-ca yet; nothing was written\. Create one with pgssl ca init/m);
    assert.doesNotMatch(r.stderr, /unexpected error/);
    assert.deepEqual(r.bundles, ['certs.cjs']);
    assert.ok(!existsSync(join(work, 'bob.key')) && !existsSync(join(work, 'bob.crt')));
  });
  it('a bad flag value of a certificate command: the option check from the same bundle, exit 2', () => {
    const r = run(['client-cert', 'carol', '--days', '0', '--out-dir', work]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--days 0: expected a whole number of days/);
    assert.deepEqual(r.bundles, ['certs.cjs']);
  });
  it('control: a command that talks to a server loads commands.cjs (and not certs.cjs)', () => {
    const r = run(['status', '-h', '127.0.0.1', '-p', '1']);
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(r.bundles, ['commands.cjs']);
  });
});
