/**
 * pg_hba.conf: full lossless parse + rewrite + serialize (read the file, write
 * the result) of 1k, 10k and 100k-rule files, beside `cp` + `sed -i` doing a
 * naive host→hostssl on the same file, interleaved in the same run.
 * Aim (issue 3): ratio ≤ 1.0 to sed at 100k rules, and near-linear growth.
 */
import { closeSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeContent } from '../src/files/atomicWrite.js';
import { loadHba } from '../src/hba/load.js';
import { planRewrite } from '../src/hba/rewrite.js';
import { generatedHba } from '../test/support/hbaFixtures.js';
import { interleave, median, printTable, ShellTimer } from './measure.js';

export function benchHba(): void {
  const dir = mkdtempSync(join(tmpdir(), 'pgssl-bench-hba-'));
  const medians: Record<number, number> = {};
  const shell = new ShellTimer();
  try {
    for (const [rules, rounds] of [
      [1_000, 21],
      [10_000, 11],
      [100_000, 21],
    ] as const) {
      const source = join(dir, `pg_hba-${rules}.conf`);
      writeFileSync(source, generatedHba(rules));
      const target = join(dir, 'out.conf');
      const samples = interleave(rounds, {
        'cp + sed -i': () => shell.time(`cp ${source} ${target} && sed -i 's/^host\\b/hostssl/' ${target}`),
        'pgssl parse+rewrite+write': () => {
          const start = process.hrtime.bigint();
          const plan = planRewrite(loadHba(source, 18));
          // Written as `hba rewrite --write` writes it (streamed from the original bytes and the
          // edits into a new file renamed over the target, as sed -i does), minus the backup and
          // the fsyncs, which sed -i does not do either.
          const temp = `${target}.pgssl-tmp`;
          const fd = openSync(temp, 'wx');
          try {
            writeContent(fd, plan.files[0]);
          } finally {
            closeSync(fd);
          }
          renameSync(temp, target);
          return Number(process.hrtime.bigint() - start) / 1e6;
        },
      });
      if (process.env.BENCH_SAMPLES) for (const [name, values] of Object.entries(samples)) console.log(`  ${name}: ${[...values].sort((a, b) => a - b).map((v) => v.toFixed(1)).join(' ')}`);
      const sed = median(samples['cp + sed -i']);
      const ours = median(samples['pgssl parse+rewrite+write']);
      medians[rules] = ours;
      printTable(`pg_hba.conf with ${rules.toLocaleString('en')} rules, median of ${rounds} interleaved runs (ratio to sed; aim ≤ 1.00x at 100k)`, [
        { name: 'cp + sed -i (naive)', median: sed, ratio: 1 },
        { name: 'pgssl parse+rewrite+write', median: ours, ratio: ours / sed },
      ]);
    }
    console.log(`  growth 100k/10k: ${(medians[100_000] / medians[10_000]).toFixed(1)} (10 = linear)`);
  } finally {
    shell.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
