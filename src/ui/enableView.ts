/** How `pgssl enable` talks while it works: numbered steps, details, diffs. */
import { colourDiff } from './diffColour.js';
import type { Style } from './style.js';

export interface EnableView {
  step(index: number, total: number, title: string): void;
  detail(text: string): void;
  diff(text: string): void;
  ok(text: string): void;
  warn(text: string): void;
  fail(text: string): void;
}

export function textView(stream: NodeJS.WritableStream, style: Style): EnableView {
  const write = (text: string) => stream.write(text + '\n');
  return {
    step: (index, total, title) => write(`\n${style.bold(`Step ${index} of ${total} — ${title}`)}`),
    detail: (text) => write(`  ${text}`),
    diff: (text) => write(colourDiff(text.replace(/\n$/, ''), style).split('\n').map((l) => `    ${l}`).join('\n')),
    ok: (text) => write(`  ${style.ok('✔')} ${text}`),
    warn: (text) => write(`  ${style.warn('!')} ${text}`),
    fail: (text) => write(`  ${style.bad('✖')} ${text}`),
  };
}
