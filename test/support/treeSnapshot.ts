/**
 * Content, mode, owner and link target of every entry under some folders:
 * what "the configuration is as it was" means on a real layout
 * (/etc/postgresql/N/NAME, the data directory's own files).
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeEntry {
  mode: string;
  owner: string;
  /** base64 of a file's bytes, a link's target, or 'dir'. */
  content: string;
}

export interface TreeOptions {
  /** Descend into sub-folders (default true). */
  recursive?: boolean;
  /** Entry names to leave out (the server's own runtime files, say). */
  ignore?: (name: string) => boolean;
}

export function treeSnapshot(dir: string, options: TreeOptions = {}): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry> = {};
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      if (options.ignore?.(name)) continue;
      const path = join(folder, name);
      const stat = lstatSync(path);
      const base = { mode: (stat.mode & 0o7777).toString(8).padStart(4, '0'), owner: `${stat.uid}:${stat.gid}` };
      if (stat.isSymbolicLink()) entries[path] = { ...base, content: `-> ${readlinkSync(path)}` };
      else if (stat.isDirectory()) {
        if (options.recursive === false) continue;
        entries[path] = { ...base, content: 'dir' };
        walk(path);
      } else entries[path] = { ...base, content: readFileSync(path).toString('base64') };
    }
  };
  walk(dir);
  return entries;
}
