/**
 * The JSON contract's own machinery: the schemas compile in ajv's strict
 * mode, their enums are the code's lists (so they cannot drift), every
 * command schema is strict at the top level, the validator rejects what
 * breaks the contract, and the writer builds the common top level.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CertProblemId } from '../../src/certs/inspect.js';
import { diffsByFile, jsonDocument, pgsslVersion, schemaVersion } from '../../src/commands/jsonReport.js';
import { errorIds, UsageError, reportedError } from '../../src/errors.js';
import type { StepId, StepStatus } from '../../src/flow/report.js';
import type { ManagerName } from '../../src/replication/managers.js';
import type { Severity } from '../../src/status/findings.js';
import { compileAllSchemas, jsonDocumentProblems, schemaDir, schemaFileOf } from '../support/jsonSchema.js';
import { repoRoot } from '../support/pgbin.js';

// Records over the TypeScript unions: the compiler refuses a missing or an unknown key,
// so these lists are the unions themselves, and the schemas' enums are compared with them.
const stepIds: Record<StepId, true> = { preflight: true, certificates: true, 'install-files': true, 'tls-on': true, enforce: true, sessions: true, report: true, loosen: true, 'tls-off': true, swap: true, publish: true, 'standby-ca': true, 'standby-conninfo': true, 'standby-primary': true };
const stepStatuses: Record<StepStatus, true> = { planned: true, done: true, 'already-done': true, skipped: true, failed: true, undone: true };
const severities: Record<Severity, true> = { error: true, warning: true, info: true };
const managerNames: Record<ManagerName, true> = { Patroni: true, 'Crunchy PGO': true, pg_auto_failover: true, CloudNativePG: true };
const certProblemIds: Record<CertProblemId, true> = {
  NOT_PEM: true, KEY_MISMATCH: true, NO_KEY_FOR_CERT: true, CERT_EXPIRED: true, CERT_NOT_YET_VALID: true, CERT_EXPIRES_SOON: true, CHAIN_INVALID: true,
  NAME_NOT_COVERED: true, KEY_ENCRYPTED: true, NOT_A_SERVER_CERT: true, KEY_TYPE_UNSUITABLE: true, NO_SUBJECT_ALT_NAME: true, KEY_PERMISSIONS: true,
};

const schema = (name: string) => JSON.parse(readFileSync(join(schemaDir, name), 'utf8'));
const common = schema('common.schema.json');
const commandSchemas = readdirSync(schemaDir).filter((n) => n.endsWith('.schema.json') && n !== 'common.schema.json');
const sorted = (values: Iterable<string>) => [...values].sort();

/** A valid document, as the writer makes it (hba explain: no server needed, small). */
function explainDocument(): Record<string, unknown> {
  const view = { verdict: 'allow', rule: { file: '/x/pg_hba.conf', line: 2, type: 'host', method: 'trust' }, uncertain: [] };
  return jsonDocument('hba explain', { attempt: { local: false, ssl: false, database: 'd', user: 'u', address: '10.0.0.1' }, before: view, afterRewrite: view }, { exitCode: 0 });
}

describe('the schemas', () => {
  it('all compile with ajv in strict mode (draft 2020-12)', () => {
    assert.deepEqual(sorted(compileAllSchemas()), sorted([...commandSchemas, 'common.schema.json']));
  });

  it("list the code's error ids, step ids, step statuses, severities and configuration managers", () => {
    assert.deepEqual(common.$defs.errorId.enum, [...errorIds]);
    assert.deepEqual(sorted(common.$defs.stepId.enum), sorted(Object.keys(stepIds)));
    assert.deepEqual(sorted(common.$defs.stepStatus.enum), sorted(Object.keys(stepStatuses)));
    assert.deepEqual(sorted(common.$defs.severity.enum), sorted(Object.keys(severities)));
    assert.deepEqual(sorted(common.$defs.configurationManager.properties.tool.enum), sorted(Object.keys(managerNames)));
    assert.deepEqual(sorted(schema('cert-inspect.schema.json').$defs.problemId.enum), sorted(Object.keys(certProblemIds)));
  });

  it('each command schema is strict at the top level, names its command, and lets through exactly the common fields', () => {
    const commonFields = Object.keys(common.properties);
    assert.deepEqual(sorted(common.required), sorted(commonFields));
    for (const name of commandSchemas) {
      const s = schema(name);
      assert.equal(s.additionalProperties, false, `${name}: additionalProperties: false`);
      assert.equal(s.$ref, 'common.schema.json', `${name} builds on the common top level`);
      assert.equal(schemaFileOf(s.properties.command.const), name, `${name} is the schema of the command it names`);
      for (const field of commonFields) assert.ok(field in s.properties, `${name} lists the common field ${field}`);
    }
  });

  it('package.json ships schemas/', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    assert.ok(manifest.files.includes('schemas'), 'schemas in package.json files');
  });
});

describe('the validator', () => {
  it('accepts a document the writer made', () => {
    assert.deepEqual(jsonDocumentProblems(explainDocument()), []);
  });

  it('rejects a document with a common field missing', () => {
    const { changed: _, ...document } = explainDocument();
    assert.match(jsonDocumentProblems(document).join('\n'), /must have required property 'changed'/);
  });

  it("rejects a document with a command's own field missing when it succeeded", () => {
    const { afterRewrite: _, ...document } = explainDocument();
    assert.match(jsonDocumentProblems(document).join('\n'), /must have required property 'afterRewrite'/);
  });

  it('rejects an extra top-level field', () => {
    assert.match(jsonDocumentProblems({ ...explainDocument(), surprise: 1 }).join('\n'), /must NOT have additional properties "surprise"/);
  });

  it('rejects ok that disagrees with the exit code, an unknown step status, and an error without a fix field', () => {
    assert.match(jsonDocumentProblems({ ...explainDocument(), exitCode: 3 }).join('\n'), /\/ok: must be equal to constant/);
    assert.match(jsonDocumentProblems({ ...explainDocument(), steps: [{ id: 'preflight', title: 't', status: 'finished', details: [] }] }).join('\n'), /\/steps\/0\/status: must be equal to one of the allowed values/);
    assert.match(jsonDocumentProblems({ ...explainDocument(), ok: false, exitCode: 2, error: { id: 'BAD_INPUT', message: 'm' } }).join('\n'), /\/error: must have required property 'fix'/);
  });

  it('rejects a document whose command has no schema, and one without a command', () => {
    assert.deepEqual(jsonDocumentProblems({ ...explainDocument(), command: 'ca renew' }), ['no schema for the command "ca renew": add schemas/ca-renew.schema.json (see README, "--json")']);
    assert.match(jsonDocumentProblems({ ok: true }).join('\n'), /no "command"/);
  });
});

describe('the writer', () => {
  it('puts the common top level first, the version from package.json, and drops the old pgssl object', () => {
    const document = jsonDocument('status', { pgssl: { command: 'status', reportVersion: 1 }, checkedAt: 'now', exitCode: 3 }, { exitCode: 3 });
    const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;
    assert.equal(pgsslVersion(), version);
    assert.deepEqual(Object.keys(document), ['pgssl', 'schemaVersion', 'command', 'ok', 'changed', 'exitCode', 'error', 'findings', 'steps', 'diffs', 'checkedAt']);
    assert.deepEqual({ ...document }, { pgssl: version, schemaVersion, command: 'status', ok: false, changed: false, exitCode: 3, error: null, findings: [], steps: [], diffs: [], checkedAt: 'now' });
  });

  it('gives every error a fix, null when there is none', () => {
    const withHint = jsonDocument('ca init', {}, { exitCode: 2, error: reportedError(new UsageError('bad', { hint: 'do this' })) });
    const without = jsonDocument('ca init', {}, { exitCode: 2, error: reportedError(new UsageError('bad')) });
    assert.deepEqual(withHint.error, { id: 'BAD_INPUT', message: 'bad', fix: 'do this' });
    assert.deepEqual(without.error, { id: 'BAD_INPUT', message: 'bad', fix: null });
  });

  it('splits a multi-file unified diff into one entry per file', () => {
    const one = '--- /a/pg_hba.conf\n+++ /a/pg_hba.conf\n@@ -1,1 +1,1 @@\n-host all all 0.0.0.0/0 md5\n+hostssl all all 0.0.0.0/0 md5\n';
    const two = '--- /a/inc.conf\n+++ /a/inc.conf\n@@ -2,1 +2,1 @@\n-host db u 10.0.0.0/8 md5\n+hostssl db u 10.0.0.0/8 md5\n';
    assert.deepEqual(diffsByFile(one + two), [{ path: '/a/pg_hba.conf', diff: one }, { path: '/a/inc.conf', diff: two }]);
    assert.deepEqual(diffsByFile(''), []);
  });
});
