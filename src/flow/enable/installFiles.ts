/**
 * Enable step 3: the certificate, key and CA files, written atomically with
 * their final mode from the first byte and owned by the data directory's
 * owner; files that already hold the same bytes are left alone.
 */
import type { PlannedTlsFile } from '../../certs/install.js';
import { dataDirectoryOwner } from '../../files/owner.js';
import type { EnableReport } from '../report.js';
import type { Step } from '../runner.js';

export function installFilesStep(files: PlannedTlsFile[], dataDirectory: string, report: EnableReport): Step {
  return {
    id: 'install-files',
    title: 'Install the certificate files',
    async run({ changes, view, checkpoint }) {
      if (files.length === 0) {
        view.ok('nothing to install');
        return 'already-done';
      }
      const owner = dataDirectoryOwner(dataDirectory);
      for (const file of files) {
        checkpoint();
        const written = changes.writeFile({ path: file.path, content: file.content, mode: file.mode, owner, why: `TLS ${file.role} file` });
        const entry = { path: file.path, role: file.role, action: written.action, backup: written.backup, mode: file.mode.toString(8).padStart(4, '0') };
        report.files.push(entry);
        view.ok(`${entry.action} ${file.path} (mode ${entry.mode})${entry.backup ? `, previous saved as ${entry.backup}` : ''}`);
      }
      return report.files.some((f) => f.action !== 'unchanged') ? 'done' : 'already-done';
    },
  };
}
