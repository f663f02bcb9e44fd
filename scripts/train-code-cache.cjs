// Run by scripts/bundle.mjs, each mode in a process of its own.
// --train: runs a few commands through the bundles, as bin/pgssl does, then
// writes what V8 compiled for them as each bundle's code cache
// (src/bundleLoader.cts). A cache made after running holds the functions a
// command calls, not only the bundle's top level. The commands need no server:
// the certificate commands in a temp folder, and a status that finds nothing
// listening, for the server commands' bundle.
// --check: loads every bundle as bin/pgssl does; fails unless V8 took every cache.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const loader = require(join(root, 'dist', 'src', 'bundleLoader.cjs'));
const bundle = (name) => join(root, 'dist', 'bundle', name);
const bundles = ['cli.cjs', 'commands.cjs', 'certs.cjs'].map(bundle);

async function train() {
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
  try {
    const cli = loader.loadBundle(bundle('cli.cjs'));
    for (const [args, expected] of runs) {
      await cli.main(['node', 'pgssl', ...args]);
      if ((process.exitCode ?? 0) !== expected) throw new Error(`pgssl ${args.join(' ')} exited ${process.exitCode}, expected ${expected}`);
      process.exitCode = 0;
    }
    const written = loader.writeCodeCaches();
    if (written.length !== bundles.length) throw new Error(`expected the caches of ${bundles.join(', ')}; wrote ${written.join(', ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function check() {
  for (const file of bundles) loader.loadBundle(file);
  const refused = bundles.filter((file) => !loader.codeCacheUsed(file));
  if (refused.length > 0) throw new Error(`a plain node process does not take the code caches of ${refused.join(', ')}`);
}

const modes = { '--train': train, '--check': check };
const mode = modes[process.argv[2]];
if (!mode) throw new Error(`usage: train-code-cache.cjs ${Object.keys(modes).join('|')}`);
Promise.resolve()
  .then(mode)
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
