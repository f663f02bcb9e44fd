/**
 * The single executable (npm run build:sea → dist/pgssl-linux-x64) on a host
 * with no Node and no npm (issue 12): a copy outside the repository, run in a
 * mount namespace where every node, nodejs, npm and npx binary is covered by
 * an empty file and every global or repository node_modules by an empty
 * folder, with a PATH of system folders only. `npm run test:sea` builds it and
 * runs this file; `npm test` does not (the build copies the ~100 MB node binary).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { connectFrom } from '../support/connectFrom.js';
import { cleanEnv, startCluster, type Cluster } from '../support/cluster.js';
import { repoRoot } from '../support/pgbin.js';
import { psql } from '../support/psql.js';
import { tempDir } from '../support/tempDir.js';

const built = join(repoRoot, 'dist', 'pgssl-linux-x64');
const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;
const systemPath = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs `command args` where Node is gone: unshare(1) gives the child its own
 * mount table (the rest of the machine keeps its node), the script covers the
 * binaries and folders, checks that none of them is reachable any more (exit
 * 99 if one is), then execs the command.
 */
function withoutNode(host: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
  const empty = join(host, 'empty-file');
  writeFileSync(empty, '', { mode: 0o644 });
  const folders = ['/usr/lib/node_modules', '/usr/local/lib/node_modules', '/usr/share/nodejs', '/usr/lib/nodejs', realpathSync(join(repoRoot, 'node_modules'))];
  const script = `
set -e
for f in /usr/bin/node /usr/bin/nodejs /usr/local/bin/node /usr/bin/npm /usr/bin/npx /usr/local/bin/npm /usr/local/bin/npx; do
  if [ -e "$f" ]; then mount --bind "$EMPTY" "$f"; fi
done
for d in ${folders.map((f) => `'${f}'`).join(' ')}; do
  if [ -d "$d" ]; then mount -t tmpfs -o ro,size=4k,mode=0755 none "$d"; fi
done
for c in node nodejs npm npx; do
  if command -v "$c" >/dev/null 2>&1; then echo "$c is still on PATH: $(command -v "$c")" >&2; exit 99; fi
done
if /usr/bin/node -e 0 2>/dev/null; then echo "/usr/bin/node still runs" >&2; exit 99; fi
exec "$@"`;
  return spawnSync('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', command, ...args], {
    cwd: host,
    env: { ...env, EMPTY: empty, PATH: systemPath, HOME: host },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

it('the single executable runs --version, status and enable --yes on a host with no node and no npm', { timeout: 300_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the test hides node with unshare --mount and bind mounts');
  assert.ok(existsSync(built), `${built} is missing: npm run test:sea builds it before running this file`);
  const host = tempDir('pgssl-sea-host');
  const pgssl = join(host, 'pgssl');
  copyFileSync(built, pgssl);
  chmodSync(pgssl, 0o755);

  // Control: inside, node is really gone (past the script's own check, 99, the shell cannot run it:
  // 126 "Permission denied" on the covered /usr/bin/node, or 127 "not found").
  const node = withoutNode(host, 'node', ['-e', '0'], cleanEnv());
  assert.ok(node.status === 126 || node.status === 127, `node must not run inside (exit ${node.status}): ${node.stderr}`);
  assert.match(node.stderr, /node: (not found|Permission denied)/);

  const versionRun = withoutNode(host, pgssl, ['--version'], cleanEnv());
  assert.equal(versionRun.status, 0, versionRun.stderr);
  assert.equal(versionRun.stdout.trim(), version);

  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({ hba: 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 0.0.0.0/0 trust\n' });
    const state = join(host, 'state');
    const env = cluster.env({ PGSSL_STATE_DIR: state });

    const before = withoutNode(host, pgssl, ['status', '--json'], env);
    assert.equal(before.status, 3, before.stderr);
    assert.ok(JSON.parse(before.stdout).findings.some((f: { id: string }) => f.id === 'SSL_OFF'), before.stdout);

    const enable = withoutNode(host, pgssl, ['enable', '--yes', '--json'], env);
    assert.equal(enable.status, 0, enable.stderr);
    const report = JSON.parse(enable.stdout);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(report.hba.changes.map((c: { line: number }) => c.line), [3], 'the 0.0.0.0/0 rule became hostssl');

    const after = withoutNode(host, pgssl, ['status', '--json'], env);
    assert.equal(after.status, 0, after.stdout + after.stderr);

    // From outside, with the real client: TLS verified against pgssl's CA and the host name.
    const verified = psql(`host=localhost port=${cluster.port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${join(state, 'ca.crt')}`, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stdout, 't');
    // 127.0.0.2 is covered only by the 0.0.0.0/0 rule, which now demands TLS.
    assert.match(await connectFrom(cluster, '127.0.0.2', false), /no encryption/);
    assert.equal(await connectFrom(cluster, '127.0.0.2', true), 'connected');
  } finally {
    cluster?.stop();
  }
});
