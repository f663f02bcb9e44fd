/** Drives a program in a real pseudo-terminal with tmux: type keys, wait for text on the screen. */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export class TmuxSession {
  private readonly socket = `pgssl-test-${randomBytes(4).toString('hex')}`;
  private readonly name = 'wizard';

  constructor(command: string, env: Record<string, string>, size = { width: 200, height: 60 }) {
    const envPrefix = Object.entries(env).map(([k, v]) => `${k}='${v.replace(/'/g, "'\\''")}'`).join(' ');
    // The command's exit code stays on screen for the test to read.
    execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', String(size.width), '-y', String(size.height), `env ${envPrefix} ${command}; echo "EXIT=$?"; sleep 600`]);
  }

  screen(colours = false): string {
    return execFileSync('tmux', ['-L', this.socket, 'capture-pane', '-p', '-J', '-S', '-2000', ...(colours ? ['-e'] : []), '-t', this.name], { encoding: 'utf8' });
  }

  keys(...keys: string[]): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', '-t', this.name, ...keys]);
  }

  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${pattern} on the screen:\n${this.screen()}`);
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
