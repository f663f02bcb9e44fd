#!/usr/bin/env node
// Captures the connection entries that real servers write, one set per major
// (12–18, embedded binaries) and log format, into test/fixtures/readiness/:
// the table of test/unit/readiness-log.test.ts reads them. Run after
// `npm run build`: node scripts/capture-readiness-logs.mjs [majors…]
// Clients: plain from 127.0.0.2 (application "app x"), TLS from 127.0.0.3,
// a physical walsender (plain) from 127.0.0.4. A second stderr capture uses
// log_line_prefix '%m [%p] %q%u@%d %r ' (the address on every entry).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { startCluster } = await import(join(root, 'dist/test/support/cluster.js'));
const { installOpensslCert, turnSslOn } = await import(join(root, 'dist/test/support/tlsSetup.js'));
const { socketFrom } = await import(join(root, 'dist/src/server/boundSocket.js'));
const { default: pg } = await import(join(root, 'node_modules/pg/lib/index.js'));
const out = join(root, 'test/fixtures/readiness');
mkdirSync(out, { recursive: true });

async function capture(major, prefix, label) {
  const destinations = major >= 15 ? 'stderr,csvlog,jsonlog' : 'stderr,csvlog';
  const cluster = await startCluster({
    binDir: join(root, `node_modules/pg${major}/native/bin`),
    hba: 'local all all trust\nhost all all 0.0.0.0/0 trust\nhost replication all 0.0.0.0/0 trust\n',
    settings: { logging_collector: 'on', log_directory: "'log'", log_destination: `'${destinations}'`, log_connections: 'on', log_line_prefix: `'${prefix}'` },
  });
  try {
    await turnSslOn(cluster, installOpensslCert(cluster));
    for (const [from, ssl] of [['127.0.0.2', false], ['127.0.0.3', true]]) {
      const client = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', application_name: 'app x', ssl: ssl ? { rejectUnauthorized: false } : false, stream: socketFrom(from) });
      await client.connect();
      await client.end();
    }
    const walsender = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', replication: true, stream: socketFrom('127.0.0.4') });
    await walsender.connect();
    await walsender.end();
    // The collector writes asynchronously: wait until the last entry is in every file.
    const dir = join(cluster.dataDir, 'log');
    for (let i = 0; i < 100; i++) {
      const files = readdirSync(dir);
      if (files.every((f) => readFileSync(join(dir, f), 'utf8').includes('replication connection authorized'))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const name of readdirSync(dir)) {
      const ext = name.slice(name.lastIndexOf('.'));
      const text = readFileSync(join(dir, name), 'utf8');
      // Only the three TCP clients' entries (csvlog rows are single lines here).
      const lines = text.split('\n').filter((l) => /127\.0\.0\.[234]|"pid":\d+.*127\.0\.0|\[(\d+)\]/.test(l) && /connection|127\.0\.0\.[234]/.test(l));
      const pids = new Set(lines.filter((l) => /127\.0\.0\.[234]/.test(l)).map((l) => (/\[(\d+)\]|,(\d+),|"pid":(\d+)/.exec(l) ?? []).slice(1).find(Boolean)));
      const kept = text.split('\n').filter((l) => [...pids].some((pid) => l.includes(`[${pid}]`) || l.includes(`,${pid},`) || l.includes(`"pid":${pid},`)) && /connection/.test(l));
      writeFileSync(join(out, `pg${major}${label}${ext}`), kept.join('\n') + '\n');
    }
  } finally {
    cluster.stop();
  }
}

const majors = process.argv.slice(2).length ? process.argv.slice(2).map(Number) : [12, 13, 14, 15, 16, 17, 18];
for (const major of majors) {
  await capture(major, '%m [%p] ', '');
  await capture(major, '%m [%p] %q%u@%d %r ', '-prefix');
  console.log(`captured PostgreSQL ${major}`);
}
