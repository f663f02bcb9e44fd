/** The status report: evidence plus the judgement on it (the --json document). */
import { ExitCode } from '../errors.js';
import type { StatusEvidence } from './evidence.js';
import { evaluateFindings, judgeCompliance, type Compliance, type Finding, type FindingOptions } from './findings.js';

export interface StatusReport extends StatusEvidence {
  pgssl: { command: 'status'; reportVersion: 1 };
  findings: Finding[];
  compliance: Compliance;
  exitCode: number;
}

export function buildStatusReport(evidence: StatusEvidence, options: FindingOptions): StatusReport {
  const findings = evaluateFindings(evidence, options);
  const compliance = judgeCompliance(evidence, findings);
  const exitCode = compliance === 'compliant' ? ExitCode.ok : compliance === 'not-compliant' ? ExitCode.checkFailed : ExitCode.operational;
  return { pgssl: { command: 'status', reportVersion: 1 }, ...evidence, findings, compliance, exitCode };
}
