/** Where a write to a path really lands when the path is a symlink. Reads only. */
import { lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Where a write really lands: writes go through a symlink to its target (defect 9), atomically in the target's folder. */
export function throughLinks(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let stat: Stats;
    try {
      stat = lstatSync(current);
    } catch {
      // Missing (or unreachable): resolve the folders that exist, keep the name.
      try {
        return join(realpathSync(dirname(current)), basename(current));
      } catch {
        return current;
      }
    }
    if (!stat.isSymbolicLink()) {
      try {
        return realpathSync(current);
      } catch {
        return current;
      }
    }
    current = resolve(dirname(current), readlinkSync(current));
  }
  return current;
}
