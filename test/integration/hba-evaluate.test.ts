/**
 * The evaluator against the server's real decisions: connections from several
 * loopback source addresses, users and databases, with and without TLS. For
 * each, the evaluator's prediction (allow, rejected by a rule, no matching
 * rule) must be what the server did — before and after the rewrite.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { evaluateHba, type ConnectionAttempt } from '../../src/hba/evaluate.js';
import { loadHba } from '../../src/hba/load.js';
import { planRewrite } from '../../src/hba/rewrite.js';
import { socketFrom } from '../../src/server/boundSocket.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { installOpensslCert, turnSslOn } from '../support/tlsSetup.js';

const hba = `local   all        all                       trust
host    all        postgres   127.0.0.1/32   trust
hostssl app        alice      127.0.0.2/32   trust
hostnossl all      bob        127.0.0.2/32   trust
host    sales      +salesteam 127.0.0.3/32   trust
host    all        all        127.0.0.3/32   reject
hostssl sameuser   all        127.0.0.0/8    trust
host    "app"      dave       127.0.0.4/32   trust
host    all        carol      127.0.0.4 255.255.255.254 trust
`;

let cluster: Cluster;
let memberships: Record<string, string[]>;

before(async () => {
  cluster = await startCluster({ hba, listenAddresses: '127.0.0.1' });
  await turnSslOn(cluster, installOpensslCert(cluster));
  await cluster.query(`CREATE ROLE salesteam; CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE carol LOGIN IN ROLE salesteam; CREATE ROLE dave LOGIN;`);
  await cluster.query('CREATE DATABASE app');
  await cluster.query('CREATE DATABASE sales');
  const rows = await cluster.query<{ rolname: string; member_of: string[] }>(
    `SELECT r.rolname, array(SELECT b.rolname FROM pg_roles b WHERE b.oid <> r.oid AND pg_has_role(r.oid, b.oid, 'MEMBER'))::text[] AS member_of FROM pg_roles r`,
  );
  memberships = Object.fromEntries(rows.map((r) => [r.rolname, r.member_of]));
});
after(() => cluster?.stop());

type Outcome = 'allow' | 'rejected by rule' | 'no matching rule';

async function attempt(source: string, user: string, database: string, ssl: boolean): Promise<Outcome> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: cluster.port,
    user,
    database,
    ssl: ssl ? { rejectUnauthorized: false } : false,
    stream: socketFrom(source),
  } as pg.ClientConfig);
  try {
    await client.connect();
    return 'allow';
  } catch (error) {
    const message = (error as Error).message;
    // Authentication happens before the database is looked up: 3D000 means the rule let us in.
    if ((error as { code?: string }).code === '3D000') return 'allow';
    if (/pg_hba\.conf rejects connection/.test(message)) return 'rejected by rule';
    if (/no pg_hba\.conf entry/.test(message)) return 'no matching rule';
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function predict(source: string, user: string, database: string, ssl: boolean): Outcome {
  const loaded = loadHba(cluster.hbaFile, cluster.major);
  const connection: ConnectionAttempt = { local: false, ssl, database, user, memberOf: memberships[user], address: source };
  const result = evaluateHba(loaded.rules, connection, { regularExpressions: cluster.major >= 16 });
  assert.deepEqual(result.uncertain, []);
  return result.verdict === 'allow' ? 'allow' : result.rule ? 'rejected by rule' : 'no matching rule';
}

async function compareAll(): Promise<number> {
  let checked = 0;
  const mismatches: string[] = [];
  for (const source of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      for (const database of ['app', 'sales', 'alice']) {
        for (const ssl of [false, true]) {
          const actual = await attempt(source, user, database, ssl);
          const predicted = predict(source, user, database, ssl);
          if (actual !== predicted) mismatches.push(`${user}@${database} from ${source} ssl=${ssl}: server ${actual}, evaluator ${predicted}`);
          checked++;
        }
      }
    }
  }
  assert.deepEqual(mismatches, []);
  return checked;
}

describe('the evaluator predicts what the server decides', () => {
  it('on the original rules (96 real connections)', async () => {
    assert.equal(await compareAll(), 96);
  });
  it('after the rewrite, reloaded (loopback included so that every rule is in play)', async () => {
    const plan = planRewrite(loadHba(cluster.hbaFile, cluster.major), { includeLoopback: true });
    assert.deepEqual(plan.changes.map((c) => c.line), [2, 5, 8, 9], "the reject rule (6) stays host");
    writeFileSync(cluster.hbaFile, plan.files[0].after);
    await cluster.reload();
    await compareAll();
    assert.equal(await attempt('127.0.0.4', 'dave', 'app', false), 'no matching rule', 'plain connections now find no rule');
    assert.equal(await attempt('127.0.0.4', 'dave', 'app', true), 'allow');
  });
});
