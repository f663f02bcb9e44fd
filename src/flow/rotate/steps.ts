/**
 * rotate's two steps. The pair is swapped atomically by writing it under NEW
 * names (nothing the server reads changes), then pointing ssl_cert_file and
 * ssl_key_file at it with ALTER SYSTEM, one right after the other and only
 * then one reload: a reload reads both settings at once, so it never sees
 * the new certificate with the old key. (A reload someone else triggers in
 * the one round trip between the two statements would see a mismatched pair:
 * PostgreSQL refuses it, logs it, and keeps serving the old pair, which this
 * step's own reload then replaces.) The old files stay where they are:
 * rollback returns to them, and the undo never removes a file the
 * configuration in force names.
 */
import type { Reload } from '../../server/reload.js';
import { reloadAndWait } from '../../server/reload.js';
import { verifyTls, type TlsVerification } from '../../server/verifyTls.js';
import { dataDirectoryOwner } from '../../files/owner.js';
import { withSpinner } from '../../ui/spinner.js';
import { afterReload } from '../enable/afterReload.js';
import { VerificationFailed } from '../enable/options.js';
import { serverLogHint } from '../enable/tlsOn.js';
import type { Preflight } from '../preflight.js';
import type { Step } from '../runner.js';
import type { RotatePlan } from './plan.js';
import type { RotateReport } from './report.js';

export function installPairStep(plan: RotatePlan, dataDirectory: string, report: RotateReport): Step {
  return {
    id: 'install-files',
    title: 'Write the new certificate and key under new names',
    async run({ changes, view, checkpoint }) {
      const owner = dataDirectoryOwner(dataDirectory);
      for (const file of plan.files) {
        checkpoint();
        const written = changes.writeFile({ path: file.path, content: file.content, mode: file.mode, owner, why: `TLS ${file.role} file (rotate)` });
        const mode = file.mode.toString(8).padStart(4, '0');
        report.files.push({ path: file.path, role: file.role, action: written.action, mode });
        view.ok(`${written.action} ${file.path} (mode ${mode}); the server does not read it yet`);
      }
      return 'done';
    },
  };
}

export function swapStep(pre: Preflight, plan: RotatePlan, connectHost: string, report: RotateReport): Step {
  return {
    id: 'swap',
    title: 'Point the server at the new pair, reload, and prove it serves it',
    async run({ client, target, changes, view, checkpoint }) {
      checkpoint();
      // No checkpoint between the two: a stop here would only widen the window described above.
      for (const setting of plan.settings) {
        await changes.setSetting(setting.name, setting.after);
        view.ok(setting.sql);
      }
      const reload: Reload = await withSpinner('reloading the configuration', reloadAndWait(client, target, { confirmWithNewSession: false }));
      view.ok(`configuration reloaded (seen by the server after ${reload.waitedMs} ms)`);
      const errors = (await client.query(`SELECT sourcefile, sourceline, name, error FROM pg_file_settings WHERE error IS NOT NULL`)).rows;
      if (errors.length > 0) throw new VerificationFailed(`the server reports configuration errors after the swap: ${errors.map((e) => `${e.sourcefile}:${e.sourceline} ${e.name ?? ''} ${e.error}`).join('; ')}`);
      checkpoint();
      const tls: TlsVerification = await afterReload(reload, target, (result) => result.ok, () =>
        verifyTls(target, { host: connectHost, port: pre.port, verifyName: plan.verifyName, checkHostName: plan.checkHostName, caPem: plan.trustPem, expectedCertificatePem: plan.certificatePem!, loadedAfter: reload.loadedBefore }),
      );
      report.verification.tls = tls;
      if (!tls.ok) {
        // PostgreSQL keeps its old TLS context when the new files fail to load: the handshake still shows the old certificate.
        const kept = tls.servedFingerprint === plan.served.fingerprint;
        const what = kept
          ? `the server still serves the previous certificate (SHA-256 ${plan.served.fingerprint.slice(0, 16)}…): it could not load the new pair and kept its old one`
          : `TLS does not work after the swap: ${tls.reason}`;
        throw new VerificationFailed(`${what}${await serverLogHint(client, pre.dataDirectory)}`);
      }
      const how = tls.hostNameChecked ? `verify-full handshake with ${tls.address} as "${tls.verifiedName}"` : `verify-ca handshake with ${tls.address} (host name not checked: --allow-name-mismatch)`;
      view.ok(`a fresh ${how} against ${plan.trustFile ?? 'the CA'}: ${tls.protocol}, serving the new certificate (SHA-256 ${tls.expectedFingerprint.slice(0, 16)}…, before ${plan.served.fingerprint.slice(0, 16)}…)`);
      for (const gap of tls.notChecked) view.warn(`not checked: ${gap}`);
      return 'done';
    },
  };
}
