/**
 * The commander program as the data a completion script needs: every command
 * path (`hba check`), its subcommands, its flags with what their values are
 * (a choice, a file, a folder, anything), and its operands. Read from the
 * program itself — what `--help` shows, hidden commands and options left
 * out — so a command or flag added to src/cli.cts completes without an edit
 * here. Pure: reads the objects, changes nothing.
 */
import type { Argument, Command, Option } from 'commander';

/** What completes at a place that takes a value. */
export type ValueKind = { kind: 'choices'; choices: string[] } | { kind: 'files' } | { kind: 'dirs' } | { kind: 'any' };

export interface CompletionFlag {
  /** Every spelling: `-p`, `--port`; `--no-color`. */
  names: string[];
  /** Undefined: a switch, nothing follows it. */
  value?: ValueKind;
}

export interface CompletionNode {
  /** As typed after the program name, '' for the program itself: `hba check`. */
  path: string;
  description: string;
  subcommands: string[];
  flags: CompletionFlag[];
  /** What the command's own arguments are, undefined when it takes none. */
  operands?: ValueKind;
}

/** Every command of the program, the program first, parents before their subcommands. */
export function completionTree(program: Command): CompletionNode[] {
  const help = program.createHelp();
  // The program's own flags (--json, --no-color) work after any subcommand too; --version only before.
  const inherited = help
    .visibleOptions(program)
    .filter((o) => o.long !== '--version' && o.long !== '--help')
    .map(flagOf);
  const nodes: CompletionNode[] = [];
  const visit = (command: Command, path: string, parentCommands: string[]) => {
    const commands = help.visibleCommands(command);
    const own = help.visibleOptions(command).map(flagOf);
    nodes.push({
      path,
      description: command.description(),
      subcommands: commands.map((c) => c.name()),
      flags: path === '' ? own : [...own, ...inherited.filter((g) => !own.some((o) => o.names.some((n) => g.names.includes(n))))],
      // commander's implicit `help [command]` takes a sibling's name.
      operands: isImplicitHelp(command, parentCommands) ? { kind: 'choices', choices: parentCommands.filter((n) => n !== 'help') } : operandsOf(command.registeredArguments),
    });
    for (const sub of commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name(), commands.map((c) => c.name()));
  };
  visit(program, '', []);
  return nodes;
}

function isImplicitHelp(command: Command, siblings: string[]): boolean {
  return command.name() === 'help' && siblings.length > 0 && command.commands.length === 0 && command.options.length === 0;
}

function flagOf(option: Option): CompletionFlag {
  const names = [option.short, option.long].filter((n): n is string => Boolean(n));
  if (!option.required && !option.optional) return { names };
  return { names, value: valueOf(option.argChoices, /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? '') };
}

function operandsOf(args: readonly Argument[]): ValueKind | undefined {
  if (args.length === 0) return undefined;
  // The first operand decides: pgssl's commands take one kind each (`hba check <file>`, `cert inspect <files...>`).
  return valueOf(args[0].argChoices, args[0].name());
}

/** By the placeholder's name, as written in cli.cts: `<file>`, `<files...>`, `<csr>` are files, `<dir>` folders. */
function valueOf(choices: string[] | undefined, placeholder: string): ValueKind {
  if (choices && choices.length > 0) return { kind: 'choices', choices: [...choices] };
  if (/dir/i.test(placeholder)) return { kind: 'dirs' };
  if (/file|path|csr|log/i.test(placeholder)) return { kind: 'files' };
  return { kind: 'any' };
}
