/** What the server would find at its next restart, after an undo: table-driven over real files. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { restartProblems, type TlsInForce } from '../../src/flow/undo.js';
import { tempDir } from '../support/tempDir.js';

const dir = tempDir('pgssl-restart');
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'a.key', '-out', 'a.crt', '-days', '2', '-subj', '/CN=a');
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'b.key', '-out', 'b.crt', '-days', '2', '-subj', '/CN=b');
copyFileSync(join(dir, 'a.key'), join(dir, 'open.key'));
chmodSync(join(dir, 'a.key'), 0o600);
chmodSync(join(dir, 'b.key'), 0o600);
chmodSync(join(dir, 'open.key'), 0o644);
const me = process.getuid?.() ?? 0;
const inForce = (ssl: boolean, cert: string, key: string): TlsInForce => ({ ssl, serverUid: me, files: [{ setting: 'ssl_cert_file', path: join(dir, cert) }, { setting: 'ssl_key_file', path: join(dir, key) }] });

describe('restartProblems', () => {
  const cases: [string, TlsInForce, RegExp | undefined][] = [
    ['a matching pair, key 0600', inForce(true, 'a.crt', 'a.key'), undefined],
    ['ssl off: files are not read at start', inForce(false, 'gone.crt', 'gone.key'), undefined],
    ['a file the configuration names is gone', inForce(true, 'gone.crt', 'a.key'), /ssl_cert_file names .*gone\.crt, which does not exist/],
    ['the key of another certificate', inForce(true, 'a.crt', 'b.key'), /b\.key is not the key of .*a\.crt/],
    ['a key PostgreSQL refuses for its mode', inForce(true, 'a.crt', 'open.key'), me === 0 ? /open\.key: .*root with mode 0644/ : /open\.key: .*mode 0644/],
  ];
  for (const [name, given, problem] of cases) {
    it(name, () => {
      const found = restartProblems(given);
      if (problem) assert.match(found.join('\n'), problem);
      else assert.deepEqual(found, []);
    });
  }
});
