/** The wizard's questions that only the enable flow asks; each names the flag that answers it in a script. */
import type { CertificateSource } from './certificateStep.js';
import type { EnableOptions } from './enable/options.js';
import { Cancelled, type Prompter } from '../ui/prompter.js';

/** On a terminal, Ctrl-C after changes offers the undo (Enter = undo); everything else undoes. */
export async function shouldUndo(error: unknown, options: Pick<EnableOptions, 'prompter'>): Promise<boolean> {
  if (!(error instanceof Cancelled) || !options.prompter.interactive) return true;
  try {
    return await options.prompter.confirm({ message: 'Stopped. Undo the changes made so far?', flag: '(always undone without a terminal)', default: true });
  } catch {
    return true;
  }
}

export async function askSource(prompter: Prompter): Promise<CertificateSource> {
  if (!prompter.interactive) return { kind: 'new-ca' };
  const kind = await prompter.select<CertificateSource['kind']>({
    message: 'Which certificate should the server use?',
    flag: '--self-signed / --cert-file / --ca-cert',
    default: 'new-ca',
    choices: [
      { value: 'new-ca', name: "New certificate from pgssl's private CA (clients can use sslmode=verify-full)" },
      { value: 'self-signed', name: 'New self-signed certificate (encryption; clients must pin it to verify)' },
      { value: 'files', name: 'Certificate and key files I already have' },
      { value: 'ca', name: 'New certificate signed by a CA I already have' },
    ],
  });
  const path = (message: string, flag: string) =>
    prompter.input({ message, flag, default: '', validate: (value) => (value.trim() ? true : 'a path, please') }).then((v) => v.trim());
  if (kind === 'files') {
    const certFile = await path('Server certificate file (PEM):', '--cert-file');
    const keyFile = await path('Its private key file (PEM):', '--key-file');
    const caFile = (await prompter.input({ message: 'CA certificate that signed it (empty if none):', flag: '--ca-file', default: '' })).trim();
    return { kind, certFile, keyFile, caFile: caFile || undefined };
  }
  if (kind === 'ca') return { kind, caCert: await path('CA certificate (PEM):', '--ca-cert'), caKey: await path('CA private key (PEM):', '--ca-key') };
  return { kind };
}

export async function askSans(prompter: Prompter, defaults: string[]): Promise<string[]> {
  const extra = await prompter.input({
    message: `The certificate will name ${defaults.join(', ')}. Other names or IPs clients use (comma-separated, empty for none):`,
    flag: '--san',
    default: '',
  });
  return extra.split(',').map((s) => s.trim()).filter(Boolean);
}

