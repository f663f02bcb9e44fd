/**
 * Step 6: sessions that still run without TLS keep working until they
 * reconnect. List them; end them when asked (never our own backend); wait for
 * terminated walsenders to come back, and check that they came back on TLS.
 */
import type { Client } from '../../server/connect.js';
import { readTcpSessions, type LiveSession } from '../../server/sessions.js';
import { settleClosing } from '../../server/connect.js';
import { withSpinner } from '../../ui/spinner.js';
import type { EnableReport } from '../report.js';
import type { Step, StepIO } from '../runner.js';
import type { EnableOptions } from './options.js';

export function sessionsStep(options: EnableOptions, report: EnableReport): Step {
  return {
    id: 'sessions',
    title: 'Live sessions without TLS',
    async run(io) {
      // Probe sessions still closing must not be counted as live sessions.
      await settleClosing();
      await handleLiveSessions(io, options, report);
      return report.sessions.withoutTls.length === 0 ? 'already-done' : report.sessions.terminated.length > 0 ? 'done' : 'skipped';
    },
  };
}

async function handleLiveSessions({ client, changes, checkpoint }: StepIO, options: EnableOptions, report: EnableReport): Promise<void> {
  const { view, prompter } = options;
  const withoutTls = (await readTcpSessions(client)).filter((s) => !s.tls);
  report.sessions.withoutTls = withoutTls;
  if (withoutTls.length === 0) {
    view.ok('every TCP session uses TLS');
    return;
  }
  for (const session of withoutTls) view.detail(`pid ${session.pid} ${session.backendType} ${session.user ?? '?'}@${session.database ?? 'replication'} from ${session.clientAddr} (${session.applicationName || 'no application name'})`);
  let chosen: number[];
  if (options.terminateNonSsl !== undefined) {
    chosen = options.terminateNonSsl ? withoutTls.map((s) => s.pid) : [];
  } else if (prompter.interactive && !options.yes) {
    chosen = await prompter.checkbox({
      message: 'End which sessions now? They reconnect with TLS (walsenders do so by themselves); unchecked ones keep running unencrypted until they reconnect.',
      flag: '--terminate-non-ssl',
      default: [],
      choices: withoutTls.map((s) => ({ value: s.pid, name: `pid ${s.pid} ${s.backendType} ${s.user}@${s.database ?? 'replication'} from ${s.clientAddr}`, checked: false })),
    });
  } else {
    chosen = [];
  }
  if (chosen.length === 0) {
    view.warn(`${withoutTls.length} session(s) keep running without TLS until they reconnect (--terminate-non-ssl ends them)`);
    report.nextSteps.push('Sessions without TLS remain: end them with SELECT pg_terminate_backend(pid) when convenient, or rerun with --terminate-non-ssl.');
    return;
  }
  const walsenders = withoutTls.filter((s) => chosen.includes(s.pid) && s.backendType === 'walsender');
  for (const pid of chosen) {
    checkpoint();
    const session = withoutTls.find((s) => s.pid === pid)!;
    await changes.terminate(pid, `${session.backendType} ${session.user ?? '?'}@${session.database ?? 'replication'} from ${session.clientAddr}`);
    report.sessions.terminated.push(pid);
    view.ok(`ended pid ${pid}`);
  }
  if (walsenders.length > 0) await waitForWalsenders(client, walsenders, options.walsenderWaitMs, report, view);
}

async function waitForWalsenders(client: Client, gone: LiveSession[], timeoutMs: number, report: EnableReport, view: EnableOptions['view']): Promise<void> {
  const goneIds = new Set(gone.map((s) => s.pid));
  const waitFor = async () => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const now = await readTcpSessions(client);
      const back = gone.map((g) => now.find((s) => s.backendType === 'walsender' && !goneIds.has(s.pid) && s.applicationName === g.applicationName && s.clientAddr === g.clientAddr));
      if (back.every((s) => s?.tls)) return back as LiveSession[];
      await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  };
  const back = await withSpinner(`waiting up to ${timeoutMs / 1000} s for ${gone.length} walsender(s) to reconnect`, waitFor());
  if (back) {
    for (const session of back) {
      report.sessions.walsendersBackOnTls.push({ applicationName: session.applicationName, pid: session.pid });
      view.ok(`walsender ${session.applicationName || ''} is back as pid ${session.pid} with ${session.tlsVersion}`);
    }
  } else {
    for (const session of gone) report.sessions.walsendersNotBack.push(session.applicationName ?? String(session.pid));
    view.warn('a standby did not come back on TLS in time: check its primary_conninfo (sslmode must not be disable) and its log');
    report.nextSteps.push("A standby did not reconnect with TLS in time: check primary_conninfo's sslmode and the standby's log.");
  }
}
