/** The pg_hba.conf fixture corpus: passing/ must parse, failing/ must be refused. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './pgbin.js';

export const fixtureRoot = join(repoRoot, 'test', 'fixtures', 'hba');

export interface HbaFixture {
  name: string;
  path: string;
  text: string;
  minMajor: number;
  maxMajor: number;
  errorLine?: number;
  needs?: string;
}

export function hbaFixtures(kind: 'passing' | 'failing'): HbaFixture[] {
  const dir = join(fixtureRoot, kind);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.conf'))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const text = readFileSync(path, 'utf8');
      const meta = /^# fixture: (.*)$/m.exec(text)?.[1] ?? '';
      const value = (key: string) => new RegExp(`${key}=(\\S+)`).exec(meta)?.[1];
      return {
        name,
        path,
        text,
        minMajor: Number(value('min-major') ?? 12),
        maxMajor: Number(value('max-major') ?? 18),
        errorLine: value('error-line') ? Number(value('error-line')) : undefined,
        needs: value('needs'),
      };
    });
}

export function appliesTo(fixture: HbaFixture, major: number): string | undefined {
  if (major < fixture.minMajor) return `syntax needs PostgreSQL ${fixture.minMajor} or later`;
  if (major > fixture.maxMajor) return `only invalid up to PostgreSQL ${fixture.maxMajor}`;
  return undefined;
}

/** A large realistic file: n remote rules with comments and mixed padding. */
export function generatedHba(rules: number): string {
  const lines = ['# generated', 'local   all   all   peer', 'host    all   all   127.0.0.1/32   scram-sha-256'];
  for (let i = 0; i < rules; i++) {
    const net = `10.${(i >> 8) & 255}.${i & 255}.0/24`;
    lines.push(i % 10 === 0 ? `# team ${i}` : '');
    lines.push(i % 3 === 0 ? `host\tdb${i}\tuser${i}\t${net}\tscram-sha-256` : `host    db${i}   user${i}   ${net.padEnd(18)} md5`);
  }
  return lines.filter((l, i) => l !== '' || i < 3).join('\n') + '\n';
}
