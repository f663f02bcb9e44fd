/**
 * `rotate --ca`'s steps on the engine. Phase 1: write the new CA and the
 * server's bundle (nothing reads them yet), point ssl_ca_file at the bundle
 * and prove the overlap, then publish the client
 * bundle and the record. Phase 2: rotate's own two steps (pair from the new
 * CA, three settings in one reload, proven served) followed by the proof
 * that the old CA is no longer trusted, then publish the new CA as pgssl's.
 * Every write and setting goes through io.changes (journaled, undone by the
 * one undo path).
 */
import { X509Certificate } from 'node:crypto';
import { fingerprintOfPem } from '../../certs/fingerprint.js';
import type { FileOwner } from '../../files/owner.js';
import { reloadAndWait } from '../../server/reload.js';
import { verifyTls } from '../../server/verifyTls.js';
import { withSpinner } from '../../ui/spinner.js';
import { afterReload } from '../enable/afterReload.js';
import { VerificationFailed } from '../enable/options.js';
import { serverLogHint } from '../enable/tlsOn.js';
import type { Preflight } from '../preflight.js';
import type { Step, StepIO } from '../runner.js';
import type { CaFileWrite, CaFinishPlan, CaOverlapPlan, CaProofPlan } from './caPlan.js';
import { clientCertificateAccepted, servedVerifiesWith } from './caProof.js';
import type { CaProofReport, RotateReport } from './report.js';
import { swapStep } from './steps.js';

export interface Owners {
  state: FileOwner | undefined;
  server: FileOwner | undefined;
}

function writeAll(files: CaFileWrite[], owners: Owners, io: StepIO, report: RotateReport, note: string): void {
  for (const file of files) {
    io.checkpoint();
    const written = io.changes.writeFile({ path: file.path, content: file.content, mode: file.mode, owner: owners[file.place], why: file.why });
    const mode = file.mode.toString(8).padStart(4, '0');
    report.files.push({ path: file.path, role: file.why, action: written.action, mode });
    io.view.ok(`${written.action} ${file.path} (mode ${mode})${note}`);
  }
}

export function installCaFilesStep(plan: CaOverlapPlan, owners: Owners, report: RotateReport): Step {
  return {
    id: 'install-files',
    title: 'Write the new CA beside the old one, and the server bundle under a new name',
    async run(io) {
      writeAll(plan.install, owners, io, report, '; nothing reads it yet');
      return 'done';
    },
  };
}

export function overlapSwapStep(pre: Preflight, plan: CaOverlapPlan, report: RotateReport): Step {
  return {
    id: 'swap',
    title: 'Point ssl_ca_file at the bundle, reload, and prove the overlap',
    async run({ client, target, changes, view, checkpoint }) {
      checkpoint();
      await changes.setSetting(plan.setting.name, plan.setting.after);
      view.ok(plan.setting.sql);
      const reload = await withSpinner('reloading the configuration', reloadAndWait(client, target, { confirmWithNewSession: false }));
      view.ok(`configuration reloaded (seen by the server after ${reload.waitedMs} ms)`);
      const errors = (await client.query(`SELECT sourcefile, sourceline, name, error FROM pg_file_settings WHERE error IS NOT NULL`)).rows;
      if (errors.length > 0) throw new VerificationFailed(`the server reports configuration errors after pointing ssl_ca_file at the bundle: ${errors.map((e) => `${e.sourcefile}:${e.sourceline} ${e.name ?? ''} ${e.error}`).join('; ')}`);
      checkpoint();
      const proof = plan.proof!;
      // The first verify-full session also proves that new sessions run the reloaded configuration.
      const first = proof.mustVerify[0];
      const tls = await afterReload(reload, target, (r) => r.ok, () => verifyTls(target, { ...proof.endpoint, caPem: first.pem, expectedCertificatePem: proof.expectedCertificatePem, loadedAfter: reload.loadedBefore }));
      report.verification.tls = tls;
      if (!tls.ok) throw new VerificationFailed(`after pointing ssl_ca_file at the bundle, ${first.what} no longer verifies the server: ${tls.reason}${await serverLogHint(client, pre.dataDirectory)}`);
      await proveCaPhase(proof, report, view, () => serverLogHint(client, pre.dataDirectory), target);
      return 'done';
    },
  };
}

export function finishSwapStep(pre: Preflight, plan: CaFinishPlan, connectHost: string, report: RotateReport): Step {
  const swap = swapStep(pre, plan.rotate, connectHost, report);
  return {
    id: 'swap',
    title: 'Point the server at the pair from the new CA and the new ssl_ca_file, reload, and prove the old CA is gone',
    async run(io) {
      await swap.run(io);
      io.checkpoint();
      await proveCaPhase({ ...plan.proof!, expectedCertificatePem: plan.rotate.certificatePem! }, report, io.view, () => serverLogHint(io.client, pre.dataDirectory), io.target);
      return 'done';
    },
  };
}

export function publishStep(files: CaFileWrite[], owners: Owners, report: RotateReport, title: string): Step {
  return {
    id: 'publish',
    title,
    async run(io) {
      writeAll(files, owners, io, report, '');
      return 'done';
    },
  };
}

/**
 * The phase's proof, each part on the real server (see caProof.ts): verify-full
 * with each CA file that must work (a real login with sslrootcert, as
 * libpq's clients do), a refused chain for each that must not, and ssl_ca_file
 * in force accepting or refusing a client certificate from each CA. Throws
 * VerificationFailed (the run is undone, exit 3) at the first that does not hold.
 */
async function proveCaPhase(proof: CaProofPlan, report: RotateReport, view: StepIO['view'], logHint: () => Promise<string>, target: StepIO['target']): Promise<void> {
  const result: CaProofReport = { verifies: [], refused: [], clientCertificates: [] };
  report.caRotation!.proof = result;
  const expected = fingerprintOfPem(proof.expectedCertificatePem);
  for (const ca of proof.mustVerify) {
    const tls = await verifyTls(target, { ...proof.endpoint, caPem: ca.pem, expectedCertificatePem: proof.expectedCertificatePem });
    result.verifies.push({ what: ca.what, ok: tls.ok, reason: tls.reason });
    if (!tls.ok) throw new VerificationFailed(`verify-full with ${ca.what} fails: ${tls.reason}${await logHint()}`);
    view.ok(`verify-full with ${ca.what}: ${tls.protocol}, serving SHA-256 ${expected.slice(0, 16)}…`);
  }
  for (const ca of proof.mustNotVerify) {
    const verdict = await servedVerifiesWith(proof.endpoint, ca.pem);
    result.refused.push({ what: ca.what, ok: !verdict.ok, reason: verdict.error });
    if (verdict.ok) throw new VerificationFailed(`verify-full with ${ca.what} still passes, so clients that never got the new CA would not notice the change; the old CA must not verify the new certificate`);
    view.ok(`verify-full with ${ca.what} is refused (${verdict.error}), as it should be`);
  }
  const startup = { user: target.user, database: target.database };
  for (const [ca, wanted] of [...proof.clientCertsAccepted.map((c) => [c, true] as const), ...proof.clientCertsRefused.map((c) => [c, false] as const)]) {
    const verdict = await clientCertificateAccepted(proof.endpoint, ca.issuer, startup);
    result.clientCertificates.push({ ca: ca.what, subject: new X509Certificate(ca.issuer.certificatePem).subject.replace(/\n/g, ', '), accepted: verdict.accepted, expected: wanted, reason: verdict.reason });
    if (verdict.accepted !== wanted) {
      throw new VerificationFailed(`a client certificate from ${ca.what} is ${verdict.accepted ? 'still accepted' : `refused (${verdict.reason})`} by the ssl_ca_file in force; it should be ${wanted ? 'accepted' : 'refused'}${await logHint()}`);
    }
    view.ok(`ssl_ca_file in force ${wanted ? 'accepts' : 'refuses'} a client certificate from ${ca.what}`);
  }
}
