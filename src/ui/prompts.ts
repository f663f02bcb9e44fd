/**
 * The four prompts the wizard asks with, loaded with import() on its first
 * question. Named here rather than taken as @inquirer/prompts' whole
 * namespace, so that the bundle (scripts/bundle.mjs) leaves out the prompts
 * pgssl never shows: the editor prompt alone would bring ~700 KB of character
 * set tables into every server command's bundle.
 */
export { checkbox, confirm, input, select } from '@inquirer/prompts';
