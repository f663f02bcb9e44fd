/**
 * A spinner on stderr for work that may take more than ~300 ms, on a terminal
 * only; elsewhere one plain line when the work starts and one when it ends.
 */
const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export async function withSpinner<T>(text: string, work: Promise<T>, stream: NodeJS.WriteStream = process.stderr): Promise<T> {
  const started = Date.now();
  if (!stream.isTTY) {
    try {
      return await work;
    } finally {
      stream.write(`${text} (${Date.now() - started} ms)\n`);
    }
  }
  let frame = 0;
  const timer = setInterval(() => stream.write(`\r${frames[frame++ % frames.length]} ${text}`), 80);
  try {
    const result = await work;
    stream.write(`\r✔ ${text} (${Date.now() - started} ms)\x1b[K\n`);
    return result;
  } catch (error) {
    stream.write(`\r✖ ${text}\x1b[K\n`);
    throw error;
  } finally {
    clearInterval(timer);
  }
}
