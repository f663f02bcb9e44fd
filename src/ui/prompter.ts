/**
 * One prompt interface, two implementations (certbot's display/obj.py): every
 * question carries its default and the flag that answers it. On a terminal the
 * wizard asks; without one, --yes takes the default and anything else fails at
 * once naming the flag — never a hang. Ctrl-C is a clean cancel.
 */
import { UsageError } from '../errors.js';

export interface Question<T> {
  message: string;
  /** The flag that answers this question in a script. */
  flag: string;
  default: T;
}

export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
  checked?: boolean;
  /** Shown but not selectable, with the reason (a stopped server, say). */
  disabled?: string;
}

export interface Prompter {
  interactive: boolean;
  confirm(question: Question<boolean>): Promise<boolean>;
  select<T>(question: Question<T> & { choices: Choice<T>[] }): Promise<T>;
  input(question: Question<string> & { validate?: (value: string) => string | true }): Promise<string>;
  checkbox<T>(question: Question<T[]> & { choices: Choice<T>[] }): Promise<T[]>;
}

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

export function nonInteractivePrompter(yes: boolean): Prompter {
  const answer = <T>(question: Question<T>): Promise<T> => {
    if (yes) return Promise.resolve(question.default);
    const how = question.flag === '--yes' ? 'pass --yes' : `pass ${question.flag}, or --yes to accept the default`;
    return Promise.reject(new UsageError(`"${question.message}" needs an answer and there is no terminal to ask on: ${how}. Nothing was changed.`));
  };
  return { interactive: false, confirm: answer, select: answer, input: answer, checkbox: answer };
}

export function interactivePrompter(): Prompter {
  const cancelOnCtrlC = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await ask();
    } catch (error) {
      if ((error as Error).name === 'ExitPromptError' || (error as Error).name === 'AbortPromptError') throw new Cancelled();
      throw error;
    }
  };
  const prompts = () => import('./prompts.js');
  return {
    interactive: true,
    confirm: (q) => cancelOnCtrlC(async () => (await prompts()).confirm({ message: q.message, default: q.default })),
    select: (q) => cancelOnCtrlC(async () => (await prompts()).select({ message: q.message, default: q.default, choices: q.choices })),
    input: (q) => cancelOnCtrlC(async () => (await prompts()).input({ message: q.message, default: q.default, validate: q.validate })),
    checkbox: (q) => cancelOnCtrlC(async () => (await prompts()).checkbox({ message: q.message, choices: q.choices.map((c) => ({ ...c, checked: c.checked ?? true })) })),
  };
}
