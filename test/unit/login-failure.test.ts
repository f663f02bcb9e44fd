/**
 * classifyLoginFailure: the server's own words for each way a login stops,
 * as PostgreSQL 12–18 and node-pg word them (messages copied from real
 * servers; test/e2e/debian-layout.test.ts and test/integration/verify-tls.test.ts
 * get them from live ones). Only a demand for a password, or a refused one,
 * proves that a pg_hba.conf rule matched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperationalError } from '../../src/errors.js';
import { PasswordRequired, classifyLoginFailure, explainConnectionError, passedHba, type LoginFailure } from '../../src/server/connectionErrors.js';
import { resolveConnectionTarget } from '../../src/server/connectionTarget.js';

/** A server error as node-pg hands it over: the message and the SQLSTATE. */
function serverError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

const target = resolveConnectionTarget({ host: '127.0.0.1', port: '5432', username: 'postgres', dbname: 'postgres' }, { HOME: '/nonexistent' });

describe('classifyLoginFailure', () => {
  const cases: [string, unknown, LoginFailure, boolean][] = [
    ['pgssl had no password to give', new PasswordRequired(), 'password-required', true],
    ['node-pg: SCRAM started without a password', new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), 'password-required', true],
    ['a wrong password (28P01)', serverError('password authentication failed for user "postgres"', '28P01'), 'password-refused', true],
    ['plain refused by hostssl rules, 14+', serverError('no pg_hba.conf entry for host "127.0.0.2", user "postgres", database "postgres", no encryption', '28000'), 'refused-no-encryption', false],
    ['plain refused by hostssl rules, before 14', serverError('no pg_hba.conf entry for host "127.0.0.2", user "postgres", database "postgres", SSL off', '28000'), 'refused-no-encryption', false],
    ['no rule even with TLS, 14+', serverError('no pg_hba.conf entry for host "127.0.0.2", user "postgres", database "postgres", SSL encryption', '28000'), 'no-hba-entry', false],
    ['no rule even with TLS, before 14', serverError('no pg_hba.conf entry for host "127.0.0.2", user "postgres", database "postgres", SSL on', '28000'), 'no-hba-entry', false],
    ['a reject rule', serverError('pg_hba.conf rejects connection for host "127.0.0.2", user "postgres", database "postgres", SSL encryption', '28000'), 'hba-reject', false],
    ['server: no digest for an Ed25519 signature', serverError('could not find digest for NID UNDEF', 'XX000'), 'channel-binding', false],
    ['server: channel binding check failed', serverError('SCRAM channel binding check failed', '28000'), 'channel-binding', false],
    ['node-pg: Ed448 certificate', new Error('SASL channel binding: Ed448 certificate channel binding is not currently supported by Postgres when parsing public certificate AAAA'), 'channel-binding', false],
    ['peer on TCP is not a password demand', serverError('Ident authentication failed for user "postgres"', '28000'), 'other', false],
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'other', false],
  ];
  for (const [name, error, expected, passed] of cases) {
    it(`${name} → ${expected}`, () => {
      assert.equal(classifyLoginFailure(error), expected);
      assert.equal(passedHba(classifyLoginFailure(error)), passed);
    });
    it(`${name} → ${expected}, also wrapped in pgssl's explanation`, () => {
      const wrapped = explainConnectionError(error, target);
      assert.ok(wrapped instanceof OperationalError);
      assert.equal(classifyLoginFailure(wrapped), expected);
    });
  }
});

describe('PasswordRequired is explained with where the password comes from', () => {
  it('names PGPASSWORD and the password file', () => {
    const message = explainConnectionError(new PasswordRequired(), target).message;
    assert.match(message, /asks for a password for user "postgres" and none was given/);
    assert.match(message, /PGPASSWORD/);
    assert.match(message, /\/nonexistent\/\.pgpass/);
  });
});
