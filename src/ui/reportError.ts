/**
 * The one place errors become text: a known PgsslError prints its message
 * (with PostgreSQL's DETAIL/HINT when there is one) and its exit code;
 * anything else is a bug, shown with details.
 */
import { ExitCode, PgsslError, messageOf, pgErrorFields } from '../errors.js';

export function reportError(error: unknown): number {
  if (error instanceof PgsslError) {
    process.stderr.write(`pgssl: ${error.message}\n`);
    const pg = pgErrorFields(error.cause);
    if (pg?.detail) process.stderr.write(`DETAIL: ${pg.detail}\n`);
    const hint = error.hint ?? pg?.hint;
    if (hint) process.stderr.write(`HINT: ${hint}\n`);
    if (process.env.PGSSL_DEBUG && error.cause) process.stderr.write(`cause: ${(error.cause as Error).stack ?? String(error.cause)}\n`);
    return error.exitCode;
  }
  if (messageOf(error) === 'cancelled' || (error as Error)?.name === 'ExitPromptError') {
    process.stderr.write('pgssl: cancelled\n');
    return ExitCode.operational;
  }
  const pg = pgErrorFields(error);
  process.stderr.write(`pgssl: unexpected error: ${messageOf(error)}\n`);
  if (pg) process.stderr.write(`SQLSTATE ${pg.code}${pg.detail ? `\nDETAIL: ${pg.detail}` : ''}${pg.hint ? `\nHINT: ${pg.hint}` : ''}\n`);
  process.stderr.write(`${(error as Error)?.stack ?? ''}\nThis is a bug in pgssl; please report it with the lines above.\n`);
  return ExitCode.operational;
}
