/**
 * The one pg_hba.conf writer: enable's enforce step (journaled) and
 * `hba rewrite --write` (backups only) both write the rewritten files through
 * here. Each file must still hold the bytes the plan was made from, and is
 * written through links, atomically, keeping its mode and owner.
 */
import { readFileSync } from 'node:fs';
import { OperationalError } from '../errors.js';
import type { StreamedContent } from '../files/atomicWrite.js';
import type { FileWrite, WrittenFile } from './changes.js';

/** A rewritten pg_hba.conf file: what it held when planned, and what it becomes (RewrittenFile streams it; disable's plan holds bytes). */
export type HbaFileChange = { path: string; beforeBytes: Buffer } & ({ afterBytes: Buffer } | StreamedContent);

export interface FileWriter {
  writeFile(change: FileWrite): WrittenFile;
}

/** Writes every changed file of the plan; throws (before writing that file) when one changed on disk since it was read. */
export function writeHbaFiles(files: HbaFileChange[], writer: FileWriter, onWritten: (written: WrittenFile) => void = () => undefined): WrittenFile[] {
  const results: WrittenFile[] = [];
  for (const file of files) {
    if (!readFileSync(file.path).equals(file.beforeBytes)) throw new OperationalError(`${file.path} changed while pgssl was working; nothing of it was written. Run the command again.`);
    const content = 'stream' in file ? file : file.afterBytes;
    const written = writer.writeFile({ path: file.path, content, keepWrittenCopy: true, why: 'pg_hba.conf rewrite' });
    results.push(written);
    onWritten(written);
  }
  return results;
}
