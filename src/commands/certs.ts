/**
 * What the CLI (src/cli.cts) loads for the certificate commands that work on
 * files only (client-cert, ca init, cert inspect): no server connection, no
 * plan runner, no prompts. scripts/bundle.mjs makes it a file of its own,
 * dist/bundle/certs.cjs, a sixth the size of commands.cjs: client-cert's
 * start-up is mostly loading code (issue 9). The option check, the error
 * report and the --json failure document come from the same bundle as the command, so that the error classes
 * a command throws are the ones reportError knows.
 */
export { certInspectCommand } from './certInspect.js';
export { caInitCommand } from './caInit.js';
export { clientCertCommand } from './clientCert.js';
export { optionProblems, optionProblemsMessage } from './optionRules.js';
export { reportError } from '../ui/reportError.js';
export { printJsonFailureOnce, printJsonUsageFailure } from './jsonReport.js';
