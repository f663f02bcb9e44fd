/**
 * The small error taxonomy. Every failure a user can cause or fix is a
 * PgsslError carrying its exit code; anything else is a bug and is shown as
 * "unexpected error" with details (see cli.ts).
 */

export const ExitCode = {
  ok: 0,
  operational: 1,
  usage: 2,
  checkFailed: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class PgsslError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options?.hint;
  }
  readonly hint: string | undefined;
  override name = 'PgsslError';
}

/** Bad flags, unreadable or invalid input files: exit 2. */
export class UsageError extends PgsslError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, ExitCode.usage, options);
  }
  override name = 'UsageError';
}

/** The server or the system did not let us do the job: exit 1. */
export class OperationalError extends PgsslError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, ExitCode.operational, options);
  }
  override name = 'OperationalError';
}

/** PostgreSQL's error fields, when the cause is a server error. */
export interface PgErrorFields {
  code?: string;
  detail?: string;
  hint?: string;
}

export function pgErrorFields(error: unknown): PgErrorFields | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, detail, hint } = error as Record<string, unknown>;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  return {
    code,
    detail: typeof detail === 'string' ? detail : undefined,
    hint: typeof hint === 'string' ? hint : undefined,
  };
}

/** Plain message of any thrown value, for context lines. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stable ids of errors, for --json documents and scripts (schemas/common.schema.json lists the same). */
export const errorIds = ['BAD_INPUT', 'OPERATIONAL', 'VERIFICATION_FAILED', 'CANCELLED', 'UNEXPECTED'] as const;
export type ErrorId = (typeof errorIds)[number];

/** The stable id of an error, for --json documents and scripts. */
export function errorId(error: unknown): ErrorId {
  if (error instanceof Error && (error.name === 'Cancelled' || error.name === 'Stopped')) return 'CANCELLED';
  if (error instanceof PgsslError) return error.exitCode === ExitCode.usage ? 'BAD_INPUT' : error.exitCode === ExitCode.checkFailed ? 'VERIFICATION_FAILED' : 'OPERATIONAL';
  return 'UNEXPECTED';
}

/** The error part of every --json document: a stable id, the message, and the fix when there is one. */
export interface ReportedError {
  id: ErrorId;
  message: string;
  fix?: string | null;
}

/** The fix is the error's hint, or PostgreSQL's HINT when the server refused. */
export function reportedError(error: unknown): { id: ErrorId; message: string; fix?: string } {
  const hint = error instanceof PgsslError ? error.hint : pgErrorFields(error)?.hint;
  return { id: errorId(error), message: messageOf(error), ...(hint ? { fix: hint } : {}) };
}
