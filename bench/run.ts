/**
 * `npm run bench`: every benchmark prints its figures beside a baseline
 * measured in the same run. BENCH="startup hba" picks some.
 */
import { benchCerts } from './certs.js';
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
const wanted = (process.env.BENCH ?? Object.keys(benches).join(' ')).split(/\s+/).filter(Boolean);
for (const name of wanted) {
  if (!benches[name]) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
  await benches[name]();
}
