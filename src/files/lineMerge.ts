/**
 * Line diffs for files someone may have edited after pgssl wrote them: a
 * unified diff of any two texts (lines added or removed too), and the
 * "undo only pgssl's own lines" merge that rollback offers. Pure.
 */

/** Pairs of equal lines (index in a, index in b), in order: a longest common subsequence. */
function commonLines(a: string[], b: string[]): [number, number][] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const pairs: [number, number][] = [];
  for (let i = 0; i < start; i++) pairs.push([i, i]);
  const n = endA - start;
  const m = endB - start;
  // The middle is what differs; a DP table beyond a few million cells is not worth it for a config file.
  if (n > 0 && m > 0 && n * m <= 4_000_000) {
    const width = m + 1;
    const table = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i * width + j] = a[start + i] === b[start + j] ? table[(i + 1) * width + j + 1] + 1 : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (a[start + i] === b[start + j]) {
        pairs.push([start + i, start + j]);
        i++;
        j++;
      } else if (table[(i + 1) * width + j] >= table[i * width + j + 1]) i++;
      else j++;
    }
  }
  for (let k = 0; k < a.length - endA; k++) pairs.push([endA + k, endB + k]);
  return pairs;
}

/** Lines with their newline kept, so that CRLF and a missing final newline survive a merge byte for byte. */
function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

/** A unified diff (3 lines of context) of any two texts; '' when they are equal. */
export function unifiedDiffOf(path: string, before: string, after: string, labels = { before: path, after: path }): string {
  const a = splitLines(before);
  const b = splitLines(after);
  const pairs = commonLines(a, b);
  type Op = { kind: ' ' | '-' | '+'; text: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  for (const [pa, pb] of [...pairs, [a.length, b.length] as [number, number]]) {
    while (i < pa) ops.push({ kind: '-', text: a[i], ai: i++, bi: j });
    while (j < pb) ops.push({ kind: '+', text: b[j], ai: i, bi: j++ });
    if (pa < a.length) ops.push({ kind: ' ', text: a[i], ai: i++, bi: j++ });
  }
  const changed = ops.map((op, k) => (op.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  const hunks: string[] = [];
  let k = 0;
  while (k < changed.length) {
    const first = changed[k];
    let last = first;
    while (k + 1 < changed.length && changed[k + 1] - last <= 6) last = changed[++k];
    k++;
    const from = Math.max(0, first - 3);
    const to = Math.min(ops.length, last + 4);
    const slice = ops.slice(from, to);
    const aCount = slice.filter((op) => op.kind !== '+').length;
    const bCount = slice.filter((op) => op.kind !== '-').length;
    const body = slice.map((op) => op.kind + (op.text.endsWith('\n') ? op.text.slice(0, -1) : `${op.text}\n\\ No newline at end of file`)).join('\n');
    hunks.push(`@@ -${slice[0].ai + (aCount ? 1 : 0)},${aCount} +${slice[0].bi + (bCount ? 1 : 0)},${bCount} @@\n${body}`);
  }
  return `--- ${labels.before}\n+++ ${labels.after}\n${hunks.join('\n')}\n`;
}

/**
 * Takes back pgssl's own edits (written: what pgssl wrote; original: what was
 * there before) from the file as it is now (current), keeping every later
 * edit of the DBA. Each of pgssl's changed lines must still be in `current`
 * unchanged; otherwise the two edits overlap and there is no safe merge
 * (undefined). pgssl's edits replace lines in place (a keyword), so a hunk is
 * a run of lines of `written` that becomes the same number of lines or more/less of `original`.
 */
export function undoOwnEdits(written: string, original: string, current: string): string | undefined {
  const base = splitLines(written);
  const mine = splitLines(original);
  const theirs = splitLines(current);
  const toTheirs = new Map(commonLines(base, theirs));
  // pgssl's hunks: runs of base lines that differ from the original.
  const pairs = [...commonLines(base, mine), [base.length, mine.length] as [number, number]];
  const replacements = new Map<number, { end: number; lines: string[] }>();
  let i = 0;
  let j = 0;
  for (const [pa, pb] of pairs) {
    if (pa > i || pb > j) {
      if (pa === i) return undefined; // a pure insertion has no anchor line to check: refuse rather than guess
      // Lines replaced one for one (a keyword) are taken back one by one: the DBA may have added lines between them.
      if (pa - i === pb - j) for (let k = 0; k < pa - i; k++) replacements.set(i + k, { end: i + k + 1, lines: [mine[j + k]] });
      else replacements.set(i, { end: pa, lines: mine.slice(j, pb) });
    }
    i = pa + 1;
    j = pb + 1;
  }
  const result: string[] = [...theirs];
  // Apply from the bottom up so indexes stay valid.
  const hunks = [...replacements.entries()].sort((x, y) => y[0] - x[0]);
  for (const [start, { end, lines }] of hunks) {
    const first = toTheirs.get(start);
    if (first === undefined) return undefined;
    for (let k = start; k < end; k++) if (toTheirs.get(k) !== first + (k - start)) return undefined;
    result.splice(first, end - start, ...lines);
  }
  return result.join('');
}
