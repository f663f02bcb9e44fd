/**
 * The JSON contract, checked: every --json document a test sees is validated
 * against schemas/<command>.schema.json (the command as typed, spaces as
 * hyphens: `cert inspect` → cert-inspect.schema.json), which builds on
 * schemas/common.schema.json. Draft 2020-12, ajv in strict mode: a schema
 * with a typo in a keyword fails to compile instead of accepting anything.
 * A document whose command has no schema is a failure too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { repoRoot } from './pgbin.js';

export const schemaDir = join(repoRoot, 'schemas');

/** The schema file of a command as typed. */
export function schemaFileOf(command: string): string {
  return `${command.trim().replace(/\s+/g, '-')}.schema.json`;
}

let compiled: { ajv: Ajv2020; byFile: Map<string, ValidateFunction> } | undefined;

/** Every schema in schemas/, compiled once per test process (a broken schema throws here, naming it). */
export function loadSchemas(): { ajv: Ajv2020; byFile: Map<string, ValidateFunction> } {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const files = readdirSync(schemaDir).filter((name) => name.endsWith('.schema.json'));
  for (const name of files) ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, name), 'utf8')), name);
  const byFile = new Map<string, ValidateFunction>();
  for (const name of files) {
    try {
      byFile.set(name, ajv.getSchema(name)!);
    } catch (error) {
      throw new Error(`schemas/${name} does not compile: ${(error as Error).message}`, { cause: error });
    }
  }
  compiled = { ajv, byFile };
  return compiled;
}

/** What is wrong with the document, one line each (empty when it is valid). */
export function jsonDocumentProblems(document: unknown): string[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return ['the document is not a JSON object'];
  const command = (document as { command?: unknown }).command;
  if (typeof command !== 'string') return ['the document has no "command" (every --json document names its command; see schemas/common.schema.json)'];
  const file = schemaFileOf(command);
  const validate = loadSchemas().byFile.get(file);
  if (!validate) return [`no schema for the command "${command}": add schemas/${file} (see README, "--json")`];
  return validate(document) ? [] : (validate.errors ?? []).map((e) => describe(e));
}

/** Throws with every problem and the document itself when it breaks its schema. */
export function assertValidJsonDocument(document: unknown, context = ''): void {
  const problems = jsonDocumentProblems(document);
  if (problems.length === 0) return;
  const shown = JSON.stringify(document, null, 2);
  throw new Error(`the --json document${context ? ` of ${context}` : ''} breaks its schema:\n  ${problems.join('\n  ')}\ndocument:\n${shown.length > 8000 ? `${shown.slice(0, 8000)}\n…` : shown}`);
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(top level)';
  const params = error.keyword === 'additionalProperties' ? ` "${(error.params as { additionalProperty: string }).additionalProperty}"` : error.keyword === 'enum' ? ` ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}` : '';
  return `${where}: ${error.message ?? error.keyword}${params} (${error.schemaPath})`;
}
