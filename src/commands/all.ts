/**
 * Everything the CLI (src/cli.cts) loads after parsing its arguments, in one
 * module: scripts/bundle.mjs makes it a single file, which loads faster than
 * the ~70 modules behind it one by one, and keeps one copy of shared code
 * (error classes) for whichever command runs.
 */
export { certInspectCommand } from './certInspect.js';
export { caInitCommand } from './caInit.js';
export { caSignCommand } from './caSign.js';
export { certRequestCommand } from './certRequest.js';
export { clientCertCommand } from './clientCert.js';
export { completionCommand } from './completion.js';
export { confirmCommand, confirmDeadlineCommand } from './confirm.js';
export { demoCommand } from './demo.js';
export { disableCommand } from './disable.js';
export { enableCommand } from './enable.js';
export { printJsonFailureOnce, printJsonUsageFailure } from './jsonReport.js';
export { rotateCommand } from './rotate.js';
export { hbaCheckCommand, hbaExplainCommand, hbaRewriteCommand } from './hba.js';
export { optionProblems, optionProblemsMessage } from './optionRules.js';
export { parseDuration, readinessCommand } from './readiness.js';
export { rollbackCommand } from './rollback.js';
export { statusCommand } from './status.js';
export { resolveConnectionTarget } from '../server/connectionTarget.js';
export { withClient } from '../server/connect.js';
export { readHbaContext } from '../server/hbaContext.js';
export { reportError } from '../ui/reportError.js';
