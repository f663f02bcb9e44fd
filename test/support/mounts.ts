/**
 * Real file systems with real limits, for the write-preconditions tests: a
 * tmpfs of a given size (then filled, or remounted read-only), and a file
 * system where `chattr +i` works. Root only; everything is unmounted and
 * removed by `cleanup()`, which tests call in `finally`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Why these tests cannot run here (not root, or mount refused, as in a container without CAP_SYS_ADMIN); undefined if they can. */
export function whyNoMounts(): string | undefined {
  if (!isRoot()) return 'needs root (mount, chattr, switching to the postgres OS user)';
  const mounts = new Mounts();
  try {
    mounts.tmpfs('probe', '64k');
    return undefined;
  } catch (error) {
    return `mounting a tmpfs is not permitted here (${(error as Error).message.split('\n')[0]})`;
  } finally {
    mounts.cleanup();
  }
}

export class Mounts {
  readonly dir = mkdtempSync(join(tmpdir(), 'pgssl-mounts-'));
  private readonly mounted: string[] = [];
  private readonly immutable: string[] = [];

  /** A fresh tmpfs of `size` (e.g. '1m') at dir/name. */
  tmpfs(name: string, size: string): string {
    const point = join(this.dir, name);
    mkdirSync(point);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', point], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.mounted.push(point);
    return point;
  }

  readOnly(point: string): void {
    execFileSync('mount', ['-o', 'remount,ro', point]);
  }

  /** Fills the file system at `point` until the kernel says ENOSPC. */
  fill(point: string): void {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(point, `filler-${i}`), chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw error;
      }
    }
  }

  /**
   * A mount where `chattr +i` works: a tmpfs if this kernel supports the flag
   * there (Linux 6.0+), else a small ext4 image on a loop device; undefined
   * (with the reason) if neither works here.
   */
  immutableCapable(name: string): { point: string } | { reason: string } {
    const point = this.tmpfs(name, '1m');
    if (this.tryChattr(point)) return { point };
    const image = join(this.dir, `${name}.img`);
    const ext = `${point}-ext4`;
    mkdirSync(ext);
    const made = spawnSync('sh', ['-c', `truncate -s 4M '${image}' && mkfs.ext4 -q -F '${image}' && mount -o loop '${image}' '${ext}'`], { encoding: 'utf8' });
    if (made.status !== 0) return { reason: `chattr +i is not supported on tmpfs here and a loop-mounted ext4 image could not be made: ${made.stderr.trim()}` };
    this.mounted.push(ext);
    if (this.tryChattr(ext)) return { point: ext };
    return { reason: 'chattr +i works neither on tmpfs nor on ext4 here' };
  }

  chattr(flag: '+i' | '+a', path: string): void {
    execFileSync('chattr', [flag, path]);
    this.immutable.push(path);
  }

  private tryChattr(point: string): boolean {
    const probe = join(point, '.chattr-probe');
    writeFileSync(probe, '');
    const set = spawnSync('chattr', ['+i', probe]).status === 0;
    if (set) spawnSync('chattr', ['-i', probe]);
    rmSync(probe, { force: true });
    return set;
  }

  cleanup(): void {
    for (const path of this.immutable.reverse()) spawnSync('chattr', ['-i', '-a', path]);
    for (const point of this.mounted.reverse()) spawnSync('umount', ['-l', point]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every entry under `dir` with its type, mode, owner and content: what "nothing changed" compares. */
export function treeOf(dir: string): Record<string, string> {
  const tree: Record<string, string> = {};
  const walk = (path: string, rel: string) => {
    const stat = lstatSync(path);
    const meta = `${stat.mode.toString(8)} ${stat.uid}:${stat.gid}`;
    if (stat.isDirectory()) {
      tree[rel || '.'] = `dir ${meta}`;
      for (const name of readdirSync(path).sort()) walk(join(path, name), rel ? `${rel}/${name}` : name);
    } else if (stat.isSymbolicLink()) tree[rel] = `link ${readlinkSync(path)}`;
    else tree[rel] = `file ${meta} ${readFileSync(path).toString('base64')}`;
  };
  walk(dir, '');
  return tree;
}
