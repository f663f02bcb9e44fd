/**
 * Enable step 5: hostssl in pg_hba.conf, proven. Each changed file (include
 * files too) must still hold the bytes the plan was made from; it is written
 * through the one journaled writer, then the server's own parse
 * (pg_hba_file_rules) must accept it before any reload. After the reload, a
 * plain connection from an address only a converted rule covers must be
 * refused with "no encryption" and a TLS one must pass pg_hba.conf.
 */
import { loadHba } from '../../hba/load.js';
import { proveEnforcement } from '../../server/enforcement.js';
import { isRejectedRule, readServerHbaRules } from '../../server/hbaFileRules.js';
import { reloadAndWait } from '../../server/reload.js';
import { withSpinner } from '../../ui/spinner.js';
import type { Preflight } from '../preflight.js';
import type { EnableReport } from '../report.js';
import type { Step } from '../runner.js';
import { writeHbaFiles } from '../hbaFiles.js';
import { afterReload } from './afterReload.js';
import { VerificationFailed } from './options.js';
import type { EnablePlan } from './plan.js';
import type { ObservedTls } from '../../server/connect.js';

export interface EnforceEvidence {
  /** The TLS attempt's handshake, made after the last reload: the final status takes it as TLS evidence. */
  lastTls?: { host: string; port: number; tls: ObservedTls };
}

export function enforceStep(pre: Preflight, plan: EnablePlan, report: EnableReport, evidence: EnforceEvidence): Step {
  return {
    id: 'enforce',
    title: 'Require TLS in pg_hba.conf and prove it',
    async run({ client, target, changes, view, checkpoint }) {
      if (plan.hba.changes.length === 0) {
        view.ok('no remote host rule left to convert');
        return 'already-done';
      }
      checkpoint();
      writeHbaFiles(plan.hba.files, changes, (written) => {
        if (written.backup) report.hba.backups.push(written.backup);
        view.ok(`rewrote ${written.path}${written.target !== written.path ? ` (through the link, in ${written.target})` : ''} (previous saved as ${written.backup})`);
      });
      const serverView = await readServerHbaRules(client);
      const rejected = serverView.filter(isRejectedRule);
      if (rejected.length > 0) throw new VerificationFailed(`the server rejects the rewritten pg_hba.conf: ${rejected.map((r) => `${r.fileName ?? pre.hbaFile}:${r.lineNumber}: ${r.error}`).join('; ')}`);
      view.ok(`the server's own parse (pg_hba_file_rules) accepts it: ${serverView.filter((r) => r.type === 'hostssl').length} hostssl rule(s)`);
      checkpoint();
      const reload = await withSpinner('reloading pg_hba.conf', reloadAndWait(client, target, { confirmWithNewSession: false }));
      view.ok(`reloaded (seen by the server after ${reload.waitedMs} ms)`);
      const rulesAfter = loadHba(pre.hbaFile, pre.facts.major).rules; // as written now, from disk
      const enforcement = await afterReload(reload, target, (result) => result.proof.ok, () =>
        proveEnforcement(target, {
          connectHost: plan.connectHost,
          port: pre.port,
          rulesAfter,
          converted: rulesAfter.filter((r) => plan.hba.changes.some((c) => c.file === r.file && c.line === r.line)),
          hostAddresses: plan.host.interfaceAddresses,
          regularExpressions: pre.facts.major >= 16,
          memberOf: pre.adminMemberOf,
        }),
      );
      const proof = enforcement.proof;
      report.verification.enforcement = proof;
      if (enforcement.observedTls) evidence.lastTls = { host: plan.connectHost, port: pre.port, tls: enforcement.observedTls };
      if (!proof.ok) {
        const attempt = proof.attempts[0];
        throw new VerificationFailed(`pg_hba.conf is not enforced as planned: from ${attempt.source}, plain → ${attempt.plainMessage}; TLS → ${attempt.tlsMessage}`);
      }
      for (const attempt of proof.attempts) {
        view.ok(`plain connection from ${attempt.source} as ${attempt.user} to ${attempt.database} refused: "${attempt.plainMessage}"`);
        view.ok(`TLS connection from ${attempt.source} passes pg_hba.conf (${attempt.tlsMessage === 'connected' ? 'connected' : 'reached authentication'})`);
      }
      if (proof.skipped) view.warn(proof.skipped);
      return 'done';
    },
  };
}
