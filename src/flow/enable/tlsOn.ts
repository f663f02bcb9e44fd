/**
 * Enable step 4: TLS on, and proven. ALTER SYSTEM for the files and
 * parameters (ssl last), reload and wait, the server's own configuration
 * errors, then a real verify-full handshake that must serve the installed
 * certificate: SHOW ssl proves nothing (a certificate the server cannot load
 * leaves TLS unusable without any SQL-visible error). pg_hba.conf is never
 * switched while this step fails.
 */
import type { Client } from '../../server/connect.js';
import type { Reload } from '../../server/reload.js';
import { reloadAndWait } from '../../server/reload.js';
import { lastServerLogLine } from '../../server/serverLog.js';
import { fingerprintOf, verifyTls } from '../../server/verifyTls.js';
import { withSpinner } from '../../ui/spinner.js';
import type { Preflight } from '../preflight.js';
import type { EnableReport } from '../report.js';
import type { Step } from '../runner.js';
import { afterReload } from './afterReload.js';
import { VerificationFailed } from './options.js';
import type { EnablePlan } from './plan.js';

export function tlsOnStep(pre: Preflight, plan: EnablePlan, report: EnableReport): Step {
  return {
    id: 'tls-on',
    title: 'Turn TLS on and prove it works',
    async run({ client, target, changes, view, checkpoint }) {
      for (const change of plan.settings) {
        checkpoint();
        await changes.setSetting(change.name, change.after);
        view.ok(change.sql);
      }
      const filesChanged = report.files.some((f) => f.action !== 'unchanged');
      let reload: Reload | undefined;
      if (plan.settings.length > 0 || filesChanged) {
        reload = await withSpinner('reloading the configuration', reloadAndWait(client, target, { confirmWithNewSession: false }));
        view.ok(`configuration reloaded (seen by the server after ${reload.waitedMs} ms)`);
        const errors = (await client.query(`SELECT sourcefile, sourceline, name, error FROM pg_file_settings WHERE error IS NOT NULL`)).rows;
        if (errors.length > 0) throw new VerificationFailed(`the server reports configuration errors after the change: ${errors.map((e) => `${e.sourcefile}:${e.sourceline} ${e.name ?? ''} ${e.error}`).join('; ')}`);
      }
      checkpoint();
      const { decision } = plan;
      const tls = await afterReload(reload, target, (result) => result.ok, () =>
        verifyTls(target, { host: plan.connectHost, port: pre.port, verifyName: plan.verifyName, checkHostName: plan.checkHostName, caPem: decision.trustPem, expectedCertificatePem: decision.certificatePem, loadedAfter: reload?.loadedBefore }),
      );
      report.verification.tls = tls;
      if (!tls.ok) throw new VerificationFailed(`TLS does not work after turning it on: ${tls.reason}${await serverLogHint(client, pre.dataDirectory)}`);
      const handshake = tls.hostNameChecked ? `verify-full handshake with ${tls.address} as "${tls.verifiedName}"` : `verify-ca handshake with ${tls.address} (host name not checked: --allow-name-mismatch)`;
      view.ok(`${handshake}: ${tls.protocol}, ${tls.cipher}; serving the installed certificate (SHA-256 ${fingerprintOf(decision.certificatePem).slice(0, 16)}…)${tls.authentication ? `; logged in with ${tls.authentication}` : ''}`);
      if (tls.pgStatSsl) view.ok(`pg_stat_ssl for that session: ssl=${tls.pgStatSsl.ssl}, ${tls.pgStatSsl.version}, ${tls.pgStatSsl.cipher}, ${tls.pgStatSsl.bits} bits`);
      for (const gap of tls.notChecked) view.warn(`not checked: ${gap}`);
      return plan.settings.length > 0 || filesChanged ? 'done' : 'already-done';
    },
  };
}

export async function serverLogHint(client: Client, dataDirectory: string): Promise<string> {
  // The cause ("could not load server certificate file …") comes just before the generic "SSL configuration was not reloaded".
  const { file, line } = await lastServerLogLine(client, dataDirectory, [/could not (load|access|open|read)|permission denied|private key file/i, /certificate|SSL|ssl_/i]);
  if (line) return `. The server log (${file}) says: ${line.trim()}`;
  return file ? ` (see the server log ${file})` : ' (see the server log)';
}
