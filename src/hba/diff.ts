/**
 * Unified diff of two texts with the same number of lines (a rewrite changes
 * lines in place, never adds or removes one). Pure.
 */
export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  const a = splitKeepingLast(before);
  const b = splitKeepingLast(after);
  if (a.length !== b.length) throw new Error('unifiedDiff expects texts with the same number of lines');
  const changed = a.map((line, i) => line !== b[i]);
  // diff(1) marks a last line that has no newline, after each side that shows it.
  const marker = (index: number, text: string) => (index === a.length - 1 && !text.endsWith('\n') ? ['\\ No newline at end of file'] : []);
  const hunks: string[] = [];
  let i = 0;
  while (i < a.length) {
    if (!changed[i]) {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let last = i;
    for (let k = i + 1; k < a.length && k - last <= 2 * context; k++) if (changed[k]) last = k;
    const stop = Math.min(a.length, last + context + 1);
    const body: string[] = [];
    let k = start;
    while (k < stop) {
      if (!changed[k]) {
        body.push(` ${a[k]}`, ...marker(k, before));
        k++;
        continue;
      }
      const runStart = k;
      while (k < stop && changed[k]) k++;
      for (let r = runStart; r < k; r++) body.push(`-${a[r]}`, ...marker(r, before));
      for (let r = runStart; r < k; r++) body.push(`+${b[r]}`, ...marker(r, after));
    }
    const count = stop - start;
    hunks.push(`@@ -${start + 1},${count} +${start + 1},${count} @@\n${body.join('\n')}`);
    i = stop;
  }
  if (hunks.length === 0) return '';
  return `--- ${path}\n+++ ${path}\n${hunks.join('\n')}\n`;
}

/** Lines of the text; the empty string after a final newline is not a line. */
function splitKeepingLast(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
