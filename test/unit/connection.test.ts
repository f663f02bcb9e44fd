import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConninfo } from '../../src/server/conninfo.js';
import { parseServiceFile, resolveConnectionTarget } from '../../src/server/connectionTarget.js';
import { findPassword } from '../../src/server/pgpass.js';
import { UsageError } from '../../src/errors.js';
import { tempDir } from '../support/tempDir.js';

describe('parseConninfo', () => {
  const cases: [string, Record<string, string>][] = [
    ['host=db1 port=5433 user=admin', { host: 'db1', port: '5433', user: 'admin' }],
    ["host = db1  dbname='my db' password='it\\'s'", { host: 'db1', dbname: 'my db', password: "it's" }],
    ['postgresql://admin:p%40ss@db1:5433/app?sslmode=require', { host: 'db1', port: '5433', user: 'admin', password: 'p@ss', dbname: 'app', sslmode: 'require' }],
    ['postgres://[::1]:5432/postgres', { host: '::1', port: '5432', dbname: 'postgres' }],
    ['postgresql:///app?host=/var/run/postgresql', { dbname: 'app', host: '/var/run/postgresql' }],
  ];
  for (const [input, expected] of cases) {
    it(`reads ${input}`, () => assert.deepEqual(parseConninfo(input), expected));
  }
  it('refuses an unterminated quote with a usage error', () => {
    assert.throws(() => parseConninfo("host='db1"), (e) => e instanceof UsageError && /unterminated/.test(e.message));
  });
});

describe('resolveConnectionTarget', () => {
  it('lets a conninfo in -d win over -h, and -h win over PGHOST', () => {
    const t = resolveConnectionTarget({ host: 'flaghost', dbname: 'host=connhost dbname=app' }, { PGHOST: 'envhost', PGUSER: 'envuser', HOME: '/nonexistent' });
    assert.equal(t.host, 'connhost');
    assert.equal(t.database, 'app');
    assert.equal(t.user, 'envuser');
    const u = resolveConnectionTarget({ host: 'flaghost' }, { PGHOST: 'envhost', HOME: '/nonexistent' });
    assert.equal(u.host, 'flaghost');
  });
  it('picks the first socket directory that has the server socket, like libpq', () => {
    const a = tempDir('sock-a');
    const b = tempDir('sock-b');
    writeFileSync(join(b, '.s.PGSQL.6543'), '');
    const t = resolveConnectionTarget({ port: '6543' }, { HOME: '/nonexistent' }, [a, b]);
    assert.equal(t.host, b);
    assert.deepEqual(t.socketDirsTried, [a, b]);
  });
  it('defaults sslmode to prefer and the database to the user', () => {
    const t = resolveConnectionTarget({ username: 'alice', host: 'h' }, { HOME: '/nonexistent' });
    assert.equal(t.sslmode, 'prefer');
    assert.equal(t.database, 'alice');
    assert.equal(t.port, 5432);
  });
  it('refuses a bad port or sslmode as bad usage', () => {
    assert.throws(() => resolveConnectionTarget({ port: 'x' }, {}), UsageError);
    assert.throws(() => resolveConnectionTarget({ host: 'h' }, { PGSSLMODE: 'sometimes' }), UsageError);
  });
  it('reads a service from PGSERVICEFILE, below explicit options and above the environment', () => {
    const dir = tempDir('svc');
    const file = join(dir, 'services.conf');
    writeFileSync(file, '# comment\n[prod]\nhost=db-prod\nport=6000\nuser=svcuser\n');
    const t = resolveConnectionTarget({ username: 'flaguser' }, { PGSERVICE: 'prod', PGSERVICEFILE: file, PGHOST: 'envhost', HOME: '/nonexistent' });
    assert.deepEqual([t.host, t.port, t.user], ['db-prod', 6000, 'flaguser']);
    assert.throws(() => resolveConnectionTarget({}, { PGSERVICE: 'nope', PGSERVICEFILE: file, HOME: '/nonexistent' }), /service "nope" not found/);
    assert.deepEqual(parseServiceFile('[a]\nx = 1\n'), { a: { x: '1' } });
  });
});

describe('findPassword (~/.pgpass)', () => {
  const file = ['# comment', 'db1:5432:*:admin:first', '*:*:*:admin:fallback', 'localhost:5433:app:bob:with\\:colon\\\\'].join('\n');
  it('returns the first matching line', () => {
    assert.equal(findPassword(file, { host: 'db1', port: 5432, database: 'x', user: 'admin' }), 'first');
    assert.equal(findPassword(file, { host: 'db2', port: 5432, database: 'x', user: 'admin' }), 'fallback');
  });
  it('matches a socket connection as localhost and unescapes \\: and \\\\', () => {
    assert.equal(findPassword(file, { host: '/var/run/postgresql', port: 5433, database: 'app', user: 'bob' }), 'with:colon\\');
  });
  it('returns nothing when no line matches', () => {
    assert.equal(findPassword(file, { host: 'db1', port: 5432, database: 'x', user: 'carol' }), undefined);
  });
});
