/** `pgssl completion bash|zsh`: the completion script for the program as it is, on stdout. */
import type { Command } from 'commander';
import { completionTree } from '../cli/completionTree.js';
import { completionScript, type Shell } from '../cli/completionScript.js';
import { ExitCode } from '../errors.js';

export function completionCommand(shell: Shell, program: Command): number {
  process.stdout.write(completionScript(shell, completionTree(program), program.version() ?? ''));
  return ExitCode.ok;
}
