/** `--for DURATION`: 0, 90, 90s, 5m, 2h (seconds when no unit). Pure. */

const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 };

/** Seconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * units[match[2] ?? ''];
}
