/** A unified diff in colour: removed lines red, added lines green, hunk headers dim. */
import type { Style } from './style.js';

export function colourDiff(diff: string, s: Style): string {
  return diff
    .split('\n')
    .map((line) => (line.startsWith('+') && !line.startsWith('+++') ? s.added(line) : line.startsWith('-') && !line.startsWith('---') ? s.removed(line) : line.startsWith('@@') ? s.dim(line) : line))
    .join('\n');
}
