// Run by scripts/bundle.mjs, in a process of its own: runs a few commands
// through the bundles, as bin/pgssl does, then writes what V8 compiled for
// them as each bundle's code cache (src/bundleLoader.cts). A cache made after
// running holds the functions a command calls, not only the bundle's top
// level: with client-cert it halved the code client-cert still compiled.
// The commands need no server: the certificate commands in a temp folder,
// and a status that finds nothing listening, for the server commands' bundle.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const loader = require(join(root, 'dist', 'src', 'bundleLoader.cjs'));
const work = mkdtempSync(join(tmpdir(), 'pgssl-code-cache-'));
process.env.HOME = work;
process.env.PGSSL_STATE_DIR = join(work, 'state');
process.env.PGSSL_NO_CODE_CACHE = '1'; // compile from the sources being cached, never from an older cache

const runs = [
  [['--version'], 0],
  [['status', '--help'], 0], // commander's help
  [['ca', 'init', '--dir', join(work, 'ca')], 0],
  [['client-cert', 'app_user', '--dir', join(work, 'ca'), '--out-dir', work], 0],
  [['cert', 'inspect', join(work, 'app_user.crt')], 3], // a client certificate, inspected as a server's: 3
  [['status', '-h', '127.0.0.1', '-p', '1', '--json'], 1], // nothing listens on port 1
];

(async () => {
  try {
    const cli = loader.loadBundle(join(root, 'dist', 'bundle', 'cli.cjs'));
    for (const [args, expected] of runs) {
      await cli.main(['node', 'pgssl', ...args]);
      if ((process.exitCode ?? 0) !== expected) throw new Error(`pgssl ${args.join(' ')} exited ${process.exitCode}, expected ${expected}`);
      process.exitCode = 0;
    }
    const written = loader.writeCodeCaches();
    if (written.length !== 3) throw new Error(`expected the caches of cli.cjs, certs.cjs and commands.cjs; wrote ${written.join(', ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
