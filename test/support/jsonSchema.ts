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

let registry: { ajv: Ajv2020; files: string[] } | undefined;

/**
 * Every schema in schemas/, added (cheap) but compiled only when a document
 * of that command comes along: ajv's compile of one command schema takes
 * ~0.1-0.5 s on a loaded 2-core machine, and a test file sees only a few commands.
 */
function schemaRegistry(): { ajv: Ajv2020; files: string[] } {
  if (registry) return registry;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const files = readdirSync(schemaDir).filter((name) => name.endsWith('.schema.json'));
  for (const name of files) ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, name), 'utf8')), name);
  return (registry = { ajv, files });
}

/** The compiled validator of one schema file (undefined when there is no such file); a broken schema throws, naming it. */
export function validatorFor(file: string): ValidateFunction | undefined {
  const { ajv, files } = schemaRegistry();
  if (!files.includes(file)) return undefined;
  try {
    return ajv.getSchema(file)!;
  } catch (error) {
    throw new Error(`schemas/${file} does not compile: ${(error as Error).message}`, { cause: error });
  }
}

/** Compiles every schema in schemas/ (the unit test's check that all of them compile in strict mode); their file names. */
export function compileAllSchemas(): string[] {
  const { files } = schemaRegistry();
  for (const file of files) validatorFor(file);
  return files;
}

/** What is wrong with the document, one line each (empty when it is valid). */
export function jsonDocumentProblems(document: unknown): string[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return ['the document is not a JSON object'];
  const command = (document as { command?: unknown }).command;
  if (typeof command !== 'string') return ['the document has no "command" (every --json document names its command; see schemas/common.schema.json)'];
  const file = schemaFileOf(command);
  const validate = validatorFor(file);
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
