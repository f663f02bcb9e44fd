/**
 * disable's two steps, in the safe order: loosen pg_hba.conf and prove a
 * plain client gets past it, and only then turn TLS off and prove the server
 * refuses it. Changes go through the journaled writer and settings, so a
 * failure or signal undoes them and `pgssl rollback` re-enforces later.
 */
import { loadHba } from '../../hba/load.js';
import { proveLoosened, type EnforcementProof } from '../../server/enforcement.js';
import { isRejectedRule, readServerHbaRules } from '../../server/hbaFileRules.js';
import { reloadAndWait } from '../../server/reload.js';
import { probeTls } from '../../server/tlsProbe.js';
import { withSpinner } from '../../ui/spinner.js';
import { writeHbaFiles } from '../hbaFiles.js';
import { VerificationFailed } from '../enable/options.js';
import type { Preflight } from '../preflight.js';
import type { Step } from '../runner.js';
import type { DisablePlan } from './plan.js';

export interface DisableEvidence {
  loosened?: EnforcementProof;
  tlsRefused?: string;
  backups: string[];
}

export function loosenStep(pre: Preflight, plan: DisablePlan, proofFrom: { connectHost: string; hostAddresses: string[] }, evidence: DisableEvidence): Step {
  return {
    id: 'loosen',
    title: 'Loosen pg_hba.conf (hostssl → host) and prove plain clients get in',
    async run({ client, target, changes, view, checkpoint }) {
      if (plan.hba.files.length === 0) {
        view.ok('no rule to loosen');
        return 'already-done';
      }
      checkpoint();
      writeHbaFiles(plan.hba.files, changes, (written) => {
        if (written.backup) evidence.backups.push(written.backup);
        view.ok(`rewrote ${written.path} (previous saved as ${written.backup})`);
      });
      const rejected = (await readServerHbaRules(client)).filter(isRejectedRule);
      if (rejected.length > 0) throw new VerificationFailed(`the server rejects the loosened pg_hba.conf: ${rejected.map((r) => `${r.fileName ?? pre.hbaFile}:${r.lineNumber}: ${r.error}`).join('; ')}`);
      checkpoint();
      const reload = await withSpinner('reloading pg_hba.conf', reloadAndWait(client, target));
      view.ok(`reloaded (seen by the server after ${reload.waitedMs} ms)`);
      const rulesAfter = loadHba(pre.hbaFile, pre.facts.major).rules;
      const loosened = rulesAfter.filter((r) => plan.hba.changes.some((c) => c.file === r.file && c.line === r.line));
      const proof = await proveLoosened(target, { connectHost: proofFrom.connectHost, port: pre.port, rulesAfter, loosened, hostAddresses: proofFrom.hostAddresses, regularExpressions: pre.facts.major >= 16, memberOf: pre.adminMemberOf });
      evidence.loosened = proof;
      if (!proof.ok) throw new VerificationFailed(`pg_hba.conf is not loosened as planned: a plain connection from ${proof.attempts[0].source} → ${proof.attempts[0].plainMessage}`);
      for (const attempt of proof.attempts) view.ok(`plain connection from ${attempt.source} as ${attempt.user} to ${attempt.database} passes pg_hba.conf (${attempt.plainOutcome === 'connected' ? 'connected' : 'reached authentication'})`);
      if (proof.skipped) view.warn(proof.skipped);
      return 'done';
    },
  };
}

export function tlsOffStep(pre: Preflight, plan: DisablePlan, connectHost: string, evidence: DisableEvidence): Step {
  return {
    id: 'tls-off',
    title: 'Turn TLS off and prove the server refuses it',
    async run({ client, target, changes, view, checkpoint }) {
      if (plan.keepSsl) {
        view.ok('TLS stays on (--keep-ssl)');
        return 'skipped';
      }
      if (plan.settings.length === 0 && !plan.sslOffExplicitly) {
        view.ok('TLS is already off');
        return 'already-done';
      }
      for (const setting of plan.settings) {
        checkpoint();
        if (setting.becomes === null) await changes.resetSetting(setting.name);
        else await changes.setSetting(setting.name, setting.becomes);
        view.ok(setting.becomes === null ? `ALTER SYSTEM RESET ${setting.name}` : `ALTER SYSTEM SET ${setting.name} = '${setting.becomes}'`);
      }
      if (plan.sslOffExplicitly) {
        await changes.setSetting('ssl', 'off');
        view.ok("ALTER SYSTEM SET ssl = 'off'   -- postgresql.conf has ssl = on");
      }
      const reload = await withSpinner('reloading the configuration', reloadAndWait(client, target));
      view.ok(`configuration reloaded (seen by the server after ${reload.waitedMs} ms)`);
      const probe = await probeTls({ host: connectHost, port: pre.port });
      if (probe.accepted) throw new VerificationFailed(`the server still accepts TLS after ssl = off (${probe.protocol}); see pg_file_settings for an ssl setting in another file`);
      evidence.tlsRefused = probe.reason;
      view.ok(`a TLS handshake is refused now: ${probe.reason}`);
      return 'done';
    },
  };
}
