/**
 * `npm run bench`: every benchmark prints its figures beside a baseline
 * measured in the same run. BENCH="startup hba" picks some.
 */
import { benchCerts } from './certs.js';
import { interleave, median, timeCommand } from './measure.js';
import { benchEnable } from './enable.js';
import { benchHba } from './hba.js';
import { benchRotate } from './rotate.js';
import { benchStartup } from './startup.js';

const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const benches: Record<string, () => void | Promise<void>> = {
  startup: () => benchStartup(repoRoot),
  hba: () => benchHba(),
  certs: () => benchCerts(repoRoot),
  enable: () => benchEnable(repoRoot),
  rotate: () => benchRotate(repoRoot),
};
/**
 * NODE_EXTRA_CA_CERTS makes every node process read and parse that file at
 * start, before any script: with a system bundle (~140 certificates) that is
 * most of `node -e 0`'s time. It would put the same large constant under
 * every Node row, hiding pgssl's own start-up in Node's, and under none of the
 * shell commands (openssl, psql). A DBA's shell does not set it, and pgssl
 * never needs it: the rows run without it, and what it costs here is shown.
 */
function withoutExtraCaCerts(): void {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return;
  const withIt = interleave(11, { with: () => timeCommand(process.execPath, ['-e', '0']), without: () => timeCommand(process.execPath, ['-e', '0'], { ...process.env, NODE_EXTRA_CA_CERTS: '' }) });
  delete process.env.NODE_EXTRA_CA_CERTS;
  console.log(`
NODE_EXTRA_CA_CERTS=${file} is left out of every row: node -e 0 takes ${median(withIt.with).toFixed(0)} ms with it, ${median(withIt.without).toFixed(0)} ms without (median of 11).`);
}

withoutExtraCaCerts();
const wanted = (process.env.BENCH ?? Object.keys(benches).join(' ')).split(/\s+/).filter(Boolean);
for (const name of wanted) {
  if (!benches[name]) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
  await benches[name]();
}
