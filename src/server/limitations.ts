/** What a read-only check could not see, and why: reported, never fatal. */
export interface Limitation {
  what: string;
  reason: string;
}

/** Runs a read; on failure records the limitation and returns undefined. */
export async function readOrNote<T>(limitations: Limitation[], what: string, read: () => Promise<T>, why?: (error: unknown) => string): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    limitations.push({ what, reason: why ? why(error) : (error as Error).message });
    return undefined;
  }
}
