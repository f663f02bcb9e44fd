/** pg_lsclusters output (text and --json) and the merge with the sockets found; the choice offered when nothing answers. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OperationalError } from '../../src/errors.js';
import { targetOrLocalServer } from '../../src/commands/serverChoice.js';
import { resolveConnectionTarget } from '../../src/server/connectionTarget.js';
import { findLocalServers, parseLsClustersJson, parseLsClustersText, socketsIn, type LocalServer } from '../../src/server/localServers.js';
import { Cancelled, nonInteractivePrompter, type Prompter } from '../../src/ui/prompter.js';

// Laid out as pg_lsclusters (postgresql-common 248) lays it out: printf "%-Ns" with N the widest value of each column but the last.
function lsClustersLayout(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((v, i) => (i < r.length - 1 ? v.padEnd(widths[i]) : v)).join(' ')).join('\n') + '\n';
}
const text = lsClustersLayout([
  ['Ver', 'Cluster', 'Port', 'Status', 'Owner', 'Data directory', 'Log file'],
  ['15', 'main', '5432', 'online', 'postgres', '/var/lib/postgresql/15/main', '/var/log/postgresql/postgresql-15-main.log'],
  ['16', 'replica', '5433', 'online,recovery', 'postgres', '/srv/pg data/16/replica', '/var/log/postgresql/postgresql-16-replica.log'],
  ['17', 'spare', '5434', 'down', '<unknown>', '<unknown>', '<unknown>'],
]);

// pg_lsclusters --json on this project's CI image (postgresql-common 248), trimmed of most config keys.
const json =
  '[{"owneruid":101,"config":{"port":"5432","data_directory":"/var/lib/postgresql/15/main"},"running":1,"ownergid":104,"configuid":101,"pgdata":"/var/lib/postgresql/15/main","socketdir":"/var/run/postgresql","logfile":"/var/log/postgresql/postgresql-15-main.log","start":"auto","cluster":"main","port":"5432","version":15,"configdir":"/etc/postgresql/15/main"},' +
  '{"owneruid":101,"running":1,"recovery":1,"pgdata":"/srv/pg data/16/replica","socketdir":"/tmp","cluster":"replica","port":5433,"version":16},' +
  '{"owneruid":4242,"running":0,"pgdata":"/var/lib/postgresql/17/spare","cluster":"spare","port":"5434","version":17}]\n';

describe('parseLsClustersText', () => {
  const expected = [
    { version: '15', cluster: 'main', port: 5432, status: 'online', owner: 'postgres', dataDirectory: '/var/lib/postgresql/15/main' },
    { version: '16', cluster: 'replica', port: 5433, status: 'online,recovery', owner: 'postgres', dataDirectory: '/srv/pg data/16/replica' },
    { version: '17', cluster: 'spare', port: 5434, status: 'down', owner: undefined, dataDirectory: undefined },
  ];
  it('reads the columns where the header puts them (a data directory with a space)', () => assert.deepEqual(parseLsClustersText(text), expected));
  it('reads coloured output (stdout on a terminal)', () => {
    const coloured = text.split('\n').map((l, i) => (i === 0 || !l ? l : `\x1b[32m${l}\x1b[0m`)).join('\n');
    assert.deepEqual(parseLsClustersText(coloured), expected);
  });
  it('reads -h output (no header) by blanks', () => {
    assert.deepEqual(parseLsClustersText('15 main 5432 down postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log\n'), [
      { version: '15', cluster: 'main', port: 5432, status: 'down', owner: 'postgres', dataDirectory: '/var/lib/postgresql/15/main' },
    ]);
  });
  it('no clusters: nothing', () => assert.deepEqual(parseLsClustersText('Ver Cluster Port Status Owner Data directory Log file\n'), []));
});

describe('parseLsClustersJson', () => {
  it('reads version, cluster, port, status, owner, data directory and socket folder', () => {
    const names: Record<number, string> = { 101: 'postgres' };
    assert.deepEqual(parseLsClustersJson(json, (uid) => names[uid]), [
      { version: '15', cluster: 'main', port: 5432, status: 'online', owner: 'postgres', dataDirectory: '/var/lib/postgresql/15/main', socketDir: '/var/run/postgresql' },
      { version: '16', cluster: 'replica', port: 5433, status: 'online,recovery', owner: 'postgres', dataDirectory: '/srv/pg data/16/replica', socketDir: '/tmp' },
      { version: '17', cluster: 'spare', port: 5434, status: 'down', owner: 'uid 4242', dataDirectory: '/var/lib/postgresql/17/spare', socketDir: undefined },
    ]);
  });
  it('refuses what is not a list', () => assert.throws(() => parseLsClustersJson('{}'), /did not print a list/));
});

describe('findLocalServers on real sockets', () => {
  let dir: string;
  const servers: Server[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgssl-sockets-'));
    for (const port of [6543, 6544]) {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(join(dir, `.s.PGSQL.${port}`), resolve));
      servers.push(server);
    }
    // What the postmaster writes beside its socket: pid, data directory, start time, port, socket folder.
    writeFileSync(join(dir, '.s.PGSQL.6543.lock'), `4242\n/srv/pg/a\n1700000000\n6543\n${dir}\n`);
    writeFileSync(join(dir, '.s.PGSQL.7000'), 'a plain file, not a socket');
  });
  after(async () => {
    for (const server of servers) await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees sockets only (not lock files, not plain files)', () => assert.deepEqual(socketsIn(dir), [6543, 6544]));

  it('merges pg_lsclusters by port and socket folder; reachable ones first', () => {
    const found = findLocalServers({ PGHOST: dir }, [
      { version: '16', cluster: 'main', port: 6544, status: 'online', owner: 'postgres', dataDirectory: '/srv/pg/b', socketDir: dir },
      { version: '15', cluster: 'old', port: 5432, status: 'down', owner: 'postgres', dataDirectory: '/srv/pg/old' },
    ]).filter((s) => s.socketDir === dir || s.cluster === 'old');
    assert.deepEqual(found, [
      { port: 6543, socketDir: dir, dataDirectory: '/srv/pg/a' },
      { port: 6544, socketDir: dir, dataDirectory: '/srv/pg/b', version: '16', cluster: 'main', status: 'online', owner: 'postgres' },
      { port: 5432, version: '15', cluster: 'old', status: 'down', owner: 'postgres', dataDirectory: '/srv/pg/old' },
    ]);
  });
});

describe('targetOrLocalServer', () => {
  const dir = '/nonexistent-pgssl-socket-dir';
  const target = resolveConnectionTarget({ host: dir, username: 'postgres' }, { HOME: '/nonexistent' });
  const seen: LocalServer[] = [
    { port: 5433, socketDir: '/run/postgresql', version: '16', cluster: 'main', status: 'online', owner: 'postgres', dataDirectory: '/var/lib/postgresql/16/main' },
    { port: 5432, version: '15', cluster: 'main', status: 'down', owner: 'postgres', dataDirectory: '/var/lib/postgresql/15/main' },
  ];
  const answering = (answer: (choices: { value: unknown; disabled?: string }[]) => unknown): Prompter => ({
    ...nonInteractivePrompter(false),
    interactive: true,
    select: (q) => Promise.resolve(answer(q.choices) as never),
  });

  it('keeps a TCP target as it is', async () => {
    const tcp = resolveConnectionTarget({ host: '127.0.0.1' }, { HOME: '/nonexistent' });
    assert.equal(await targetOrLocalServer(tcp, { prompter: nonInteractivePrompter(false), yes: false, find: () => seen }), tcp);
  });

  it('without a terminal: the connection error, naming the servers and how to reach each', async () => {
    await assert.rejects(targetOrLocalServer(target, { prompter: nonInteractivePrompter(true), yes: true, find: () => seen }), (e) => {
      assert.ok(e instanceof OperationalError);
      assert.match(e.message, new RegExp(`^could not connect to the server: .*${dir}/\\.s\\.PGSQL\\.5432.*Give the right one with -p PORT`));
      assert.match(e.message, /Servers found on this host: PostgreSQL 16 main, port 5433, online, owner postgres, \/var\/lib\/postgresql\/16\/main \(socket \/run\/postgresql\/\.s\.PGSQL\.5433\) — -h \/run\/postgresql -p 5433; PostgreSQL 15 main, port 5432, down, .* — \(stopped\)\.$/);
      return true;
    });
  });

  it('nothing found: says so, with the folders looked in', async () => {
    await assert.rejects(targetOrLocalServer(target, { prompter: answering(() => assert.fail('nothing to ask')), yes: false, find: () => [] }), /No other server was found either \(sockets in \/var\/run\/postgresql, \/run\/postgresql, \/tmp/);
  });

  it('on a terminal: the stopped one is shown but not selectable, and the pick becomes the target', async () => {
    const picked = await targetOrLocalServer(target, {
      prompter: answering((choices) => {
        assert.deepEqual(choices.map((c) => c.disabled), [undefined, '(stopped)', undefined]);
        return choices[0].value;
      }),
      yes: false,
      find: () => seen,
    });
    assert.deepEqual({ host: picked.host, port: picked.port, user: picked.user }, { host: '/run/postgresql', port: 5433, user: 'postgres' });
  });

  it('"None of these" is a clean cancel', async () => {
    await assert.rejects(targetOrLocalServer(target, { prompter: answering((choices) => choices.at(-1)!.value), yes: false, find: () => seen }), Cancelled);
  });
});
