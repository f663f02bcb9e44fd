/**
 * `rotate --ca` inside rotate's flow (run.ts): after preflight and the
 * served certificate, read the rotation record, decide the phase, plan it,
 * show it, and hand the runner its steps. A second `rotate --ca` during an
 * overlap changes nothing and says when it began; `--finish` without an
 * overlap is a UsageError, both before any change.
 */
import { UsageError } from '../../errors.js';
import { describeKeySpec } from '../../certs/keys.js';
import { fingerprintOf } from '../../server/verifyTls.js';
import { planCaFinish, planCaOverlap, type CaFileWrite } from './caPlan.js';
import { readCaRotationRecord, recordPath } from './caRecord.js';
import { caPhase, shownTime } from './caRotation.js';
import { finishSwapStep, installCaFilesStep, overlapSwapStep, publishStep, type Owners } from './caSteps.js';
import type { PlanInput } from './plan.js';
import type { HeldView } from './quietView.js';
import type { RotateReport } from './report.js';
import { showRotatePlan, type PreparedRotation } from './prepared.js';
import { installPairStep } from './steps.js';

export async function prepareCaPhase(input: PlanInput, ca: { finish: boolean }, owners: Owners, report: RotateReport, view: HeldView): Promise<PreparedRotation | 'nothing-to-do'> {
  const phase = caPhase(readCaRotationRecord(input.stateDir), ca.finish);
  if (phase.kind === 'nothing-to-finish') {
    throw new UsageError(
      `there is no CA rotation in progress to finish${phase.record ? ` (the last one finished on ${shownTime(phase.record.finished ?? phase.record.began)})` : ` (no ${recordPath(input.stateDir)})`}; nothing was changed. pgssl rotate --ca begins one: a new CA, published beside the old one, until clients have it.`,
    );
  }
  if (phase.kind === 'in-overlap') {
    const r = phase.record;
    report.caRotation = { phase: 'in-overlap', began: r.began, oldCa: r.old, newCa: r.new, clientCaFile: r.clientCaFile, warnings: [] };
    view.ok(`a CA rotation is already in progress: the overlap began on ${shownTime(r.began)} (new CA ${r.new.certPath}); nothing was changed`);
    report.nextSteps.push(`Once every client has the bundle ${r.clientCaFile} (old and new CA), run pgssl rotate --ca --finish.`);
    return 'nothing-to-do';
  }
  if (phase.kind === 'begin') {
    const plan = await planCaOverlap(input);
    report.caRotation = { phase: 'begin', began: plan.record.began, oldCa: plan.oldCa, newCa: plan.newCa, clientCaFile: plan.record.clientCaFile, serverCaFile: plan.install[3].path, warnings: [] };
    report.settings = [plan.setting];
    report.caFile = plan.record.clientCaFile;
    view.detail(`old CA: ${plan.oldCa.subject} (SHA-256 ${plan.oldCa.fingerprint.slice(0, 16)}…, until ${plan.oldCa.notAfter.slice(0, 10)})`);
    view.detail(`new CA: ${describeKeySpec(plan.newCa.key)}, ${plan.newCa.certPath}, key ${plan.newCa.keyPath}`);
    view.detail('Plan:');
    for (const file of [...plan.install, ...plan.publish]) view.detail(`  write ${file.path} (mode ${file.mode.toString(8).padStart(4, '0')}): ${file.why}`);
    view.detail(`  ${plan.setting.sql};   -- now ${plan.setting.before ?? '(not set)'}`);
    view.detail('  SELECT pg_reload_conf();');
    view.detail('  then verify-full with the old CA alone and with the bundle must both pass, and ssl_ca_file must accept client certificates from both CAs');
    return {
      steps: [installCaFilesStep(plan, owners, report), overlapSwapStep(input.pre, plan, report), publishStep(plan.publish, owners, report, 'Publish the bundle (old + new CA) as the client CA file')],
      files: [...plan.install, ...plan.publish],
      questions: ['Make a new CA, trust it beside the old one on the server, and publish the bundle to clients now?'],
      nextSteps: (journal) => [
        `Give every client the bundle ${plan.record.clientCaFile} (old and new CA) as sslrootcert; clients that keep the old CA file still verify until --finish.`,
        `Then run pgssl rotate --ca --finish: the server gets a certificate from the new CA, and the old CA is dropped.`,
        `pgssl rollback undoes this phase (journal ${journal}): the old CA alone again.`,
      ],
    };
  }
  const plan = await planCaFinish(input, phase.record);
  const r = phase.record;
  report.caRotation = { phase: 'finish', began: r.began, finished: plan.record.finished, oldCa: plan.record.old, newCa: r.new, clientCaFile: r.clientCaFile, serverCaFile: plan.rotate.files[2].path, warnings: [plan.clientCertificateWarning] };
  const rotate = plan.rotate;
  report.before = { ...report.before!, certFile: rotate.inForce.certPath, keyFile: rotate.inForce.keyPath };
  report.after = { description: rotate.description, fingerprint: rotate.certificatePem ? fingerprintOf(rotate.certificatePem) : '', notAfter: rotate.notAfter, names: rotate.names, certFile: rotate.files[0].path, keyFile: rotate.files[1].path };
  report.caFile = rotate.trustFile;
  report.settings = rotate.settings;
  view.detail(`overlap since ${shownTime(r.began)}; old CA ${r.old.subject}, new CA ${r.new.subject}`);
  view.warn(plan.clientCertificateWarning);
  showRotatePlan(view, rotate);
  for (const file of plan.publish) view.detail(`  then write ${file.path} (mode ${file.mode.toString(8).padStart(4, '0')}): ${file.why}`);
  view.detail('  and verify-full with the old CA alone must fail; ssl_ca_file must refuse a client certificate from the old CA');
  const oldKey = plan.publish[0].path;
  return {
    steps: [installPairStep(rotate, input.pre.dataDirectory, report), finishSwapStep(input.pre, plan, input.connectHost, report), publishStep(plan.publish, owners, report, "Publish the new CA alone as the client CA file and as pgssl's CA")],
    files: [...rotate.files, ...plan.publish].map((f: { path: string; content: string } | CaFileWrite) => ({ path: f.path, content: f.content })),
    questions: [`${plan.clientCertificateWarning} Continue?`, 'Swap the server to a certificate from the new CA and drop the old CA now?'],
    nextSteps: (journal) => [
      `The server serves a certificate from the new CA; ${r.clientCaFile} holds the new CA alone (clients with the bundle keep working; clients with only the old CA file now fail).`,
      `The old CA is kept in ${r.old.certPath} and ${oldKey} (mode 0600) until you remove them; nothing pgssl does reads them again.`,
      `pgssl rollback returns to the overlap (journal ${journal}).`,
    ],
  };
}
