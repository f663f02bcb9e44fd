/** Short human descriptions of rules and errors. Pure. */
import type { HbaError, HbaRule } from './model.js';

export function describeRule(rule: HbaRule): string {
  const firstLine = rule.raw.split(/\r?\n/)[0].trim();
  return `${rule.file}:${rule.line}: ${firstLine}${rule.lineCount > 1 ? ' …' : ''}`;
}

export function describeErrors(errors: HbaError[]): string {
  // Line 0: about the file as a whole (unreadable, no rules).
  return errors.map((e) => `  ${e.file}${e.line > 0 ? `:${e.line}:${e.column}` : ''}: ${e.message}`).join('\n');
}
