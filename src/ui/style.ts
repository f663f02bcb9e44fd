/** Colour on or off, decided once: --no-color, NO_COLOR, or not a terminal. */
import { Chalk, type ChalkInstance } from 'chalk';

export interface Style {
  ok: (text: string) => string;
  bad: (text: string) => string;
  warn: (text: string) => string;
  dim: (text: string) => string;
  bold: (text: string) => string;
  added: (text: string) => string;
  removed: (text: string) => string;
}

export function colourWanted(flag: boolean | undefined, stream: NodeJS.WriteStream, env = process.env): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export function makeStyle(colour: boolean): Style {
  const chalk: ChalkInstance = new Chalk({ level: colour ? 1 : 0 });
  return {
    ok: chalk.green,
    bad: chalk.red,
    warn: chalk.yellow,
    dim: chalk.dim,
    bold: chalk.bold,
    added: chalk.green,
    removed: chalk.red,
  };
}
