/**
 * Runs the real ansible-playbook (Debian's ansible-core) on the repository's
 * role, with a JSON stdout callback (callback_plugins/pgssl_json.py): the play recap and every task's result per
 * host come back as data, never scraped from the text output.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv } from '../../support/cluster.js';
import { repoRoot } from '../../support/pgbin.js';

export const roleDir = join(repoRoot, 'ansible', 'roles');

export interface HostStats {
  ok: number;
  changed: number;
  failures: number;
  skipped: number;
  unreachable: number;
}

export interface TaskResult {
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  rc?: number | null;
  command?: string[];
  report?: any;
  diff?: { before?: string; after?: string; before_header?: string; after_header?: string; prepared?: string }[];
  warnings?: string[];
}

export interface PlaybookRun {
  code: number | null;
  stats: Record<string, HostStats>;
  /** Every task in order, with each host's result. */
  tasks: { name: string; hosts: Record<string, TaskResult> }[];
  stderr: string;
}

/** Whether ansible-playbook is installed (.ci/run installs Debian's ansible-core). */
export function ansibleAvailable(): boolean {
  return spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** One inventory host per entry: connection local, its variables as given. */
export function writeInventory(path: string, hosts: Record<string, Record<string, unknown>>): void {
  const all = { all: { children: { postgres: { hosts: Object.fromEntries(Object.entries(hosts).map(([name, vars]) => [name, { ...localHostVars, ...vars }])) } } } };
  // JSON is YAML: no YAML writer needed.
  writeFileSync(path, JSON.stringify(all, null, 2));
}

const localHostVars = {
  ansible_connection: 'local',
  // Debian's ansible-core runs on /usr/bin/python3; PATH may name another python.
  ansible_python_interpreter: '/usr/bin/python3',
  // No sudo in a minimal Debian; root becomes postgres without a password with su.
  ansible_become_method: 'su',
};

/**
 * ansible-playbook PLAYBOOK -i INVENTORY [args], in `work` (its own local temp
 * folder there, no ansible.cfg from anywhere). Never throws on a failed play:
 * the caller asserts on the recap.
 */
export function runPlaybook(work: string, playbook: string, inventory: string, args: string[] = [], timeoutMs = 900_000): Promise<PlaybookRun> {
  // An empty configuration of our own: an ansible.cfg in the current folder or ~ must not apply.
  writeFileSync(join(work, 'ansible.cfg'), '[defaults]\n');
  // The modules' own temp folder (remote_tmp), for root and for postgres after become:
  // in the test's folder rather than ~/.ansible/tmp in each user's home, where it would stay.
  const remoteTmp = join(work, 'remote-tmp');
  mkdirSync(remoteTmp, { recursive: true });
  chmodSync(remoteTmp, 0o1777);
  chmodSync(work, 0o711);
  const env: NodeJS.ProcessEnv = {
    // No PG* (PGSSL_STATE_DIR…) of the caller's: each host's variables say everything.
    ...cleanEnv({ LC_ALL: 'C.UTF-8' }), // ansible-core refuses a locale that is not UTF-8
    // callback_plugins/pgssl_json.py: ansible.posix's json callback is not in Debian's ansible-core.
    ANSIBLE_STDOUT_CALLBACK: 'pgssl_json',
    ANSIBLE_CALLBACK_PLUGINS: join(repoRoot, 'test', 'ansible', 'callback_plugins'),
    ANSIBLE_ROLES_PATH: roleDir,
    ANSIBLE_CONFIG: join(work, 'ansible.cfg'),
    ANSIBLE_LOCAL_TEMP: join(work, 'ansible-local'),
    ANSIBLE_REMOTE_TEMP: remoteTmp,
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_HOST_KEY_CHECKING: 'false',
  };
  return new Promise((resolve, reject) => {
    const child = spawn('ansible-playbook', ['-i', inventory, playbook, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let document: any;
      try {
        document = JSON.parse(stdout);
      } catch (error) {
        reject(new Error(`ansible-playbook (exit ${code}) did not print one JSON document (${(error as Error).message}):\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      const tasks = (document.plays ?? []).flatMap((play: any) => play.tasks.map((t: any) => ({ name: t.task.name, hosts: t.hosts })));
      resolve({ code, stats: document.stats ?? {}, tasks, stderr });
    });
  });
}

/** Each host's result of the task with this name (the last one, when it ran more than once). */
export function taskResults(run: PlaybookRun, name: string): Record<string, TaskResult> {
  const found = run.tasks.filter((t) => t.name === name);
  if (found.length === 0) throw new Error(`no task named "${name}" in the run; tasks: ${run.tasks.map((t) => t.name).join(', ')}`);
  return found.at(-1)!.hosts;
}

/** The run as text for an assertion message: recap plus each failed task's msg. */
export function describeRun(run: PlaybookRun): string {
  const failures = run.tasks.flatMap((t) => Object.entries(t.hosts).filter(([, r]) => r.failed).map(([host, r]) => `${host} ${t.name}: ${r.msg ?? JSON.stringify(r).slice(0, 2000)}`));
  const changed = run.tasks.flatMap((t) => Object.entries(t.hosts).filter(([, r]) => r.changed).map(([host]) => `${host} ${t.name}`));
  return `exit ${run.code}; stats ${JSON.stringify(run.stats)}\nchanged: ${changed.join(', ') || 'none'}\n${failures.join('\n')}\n${run.stderr.slice(-2000)}`;
}

/** A play that applies the role with extra variables for every host. */
export function writePlay(path: string, vars: Record<string, unknown> = {}): void {
  writeFileSync(path, JSON.stringify([{ name: 'pgssl', hosts: 'postgres', gather_facts: false, roles: [{ role: 'pgssl', vars }] }], null, 2));
}
