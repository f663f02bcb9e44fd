/**
 * The standby plan's steps on the one runner: install the primary's CA,
 * set primary_conninfo (ALTER SYSTEM through the journaled writer), reload,
 * and prove the walreceiver streams again with the new conninfo — a
 * verify-full walreceiver that streams is on TLS to a primary whose
 * certificate it verified; then, with --primary, the primary's own view.
 */
import type { FileOwner } from '../../files/owner.js';
import { readWalReceiver, type WalReceiverView } from '../../replication/standby.js';
import { readWalsenders, walsenderText } from '../../replication/walsenders.js';
import { withClient } from '../../server/connect.js';
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import { reloadAndWait } from '../../server/reload.js';
import { withSpinner } from '../../ui/spinner.js';
import { VerificationFailed } from '../enable/options.js';
import type { Step } from '../runner.js';
import type { StandbyPlan } from './plan.js';
import type { StandbyReport } from './report.js';

type Change = NonNullable<StandbyPlan['change']>;

export function installCaStep(change: Change, owner: FileOwner | undefined, report: StandbyReport): Step {
  return {
    id: 'standby-ca',
    title: "Install the primary's CA",
    async run({ changes, view }) {
      const written = changes.writeFile({ path: change.ca.installedAs, content: change.ca.pem, mode: 0o600, owner, why: "the CA the standby's walreceiver verifies its primary with (sslrootcert)" });
      report.ca = { source: change.ca.source, from: change.ca.from, installedAs: change.ca.installedAs, action: written.action };
      view.ok(`${written.action === 'unchanged' ? 'already in place' : written.action}: ${change.ca.installedAs} (from ${change.ca.from})`);
      return written.action === 'unchanged' ? 'already-done' : 'done';
    },
  };
}

export function conninfoStep(change: Change, waitMs: number, report: StandbyReport): Step {
  return {
    id: 'standby-conninfo',
    title: 'primary_conninfo with sslmode=verify-full, reload, walreceiver streaming again',
    async run({ client, target, changes, view, checkpoint }) {
      await changes.setSetting('primary_conninfo', change.conninfo);
      view.ok(change.shownSql);
      checkpoint();
      const reload = await withSpinner('reloading the configuration', reloadAndWait(client, target));
      view.ok(`configuration reloaded (seen by the server after ${reload.waitedMs} ms)`);
      // PostgreSQL 13+: the startup process restarts the walreceiver when primary_conninfo changes on reload.
      const receiver = await withSpinner(`waiting up to ${waitMs / 1000} s for the walreceiver to stream with the new primary_conninfo`, waitForReceiver(() => readWalReceiver(client), waitMs, checkpoint));
      report.verification.walReceiver = receiver.last ?? undefined;
      if (!receiver.ok) {
        const seen = receiver.last ? `status "${receiver.last.status}"${receiver.last.conninfo?.includes('sslmode=verify-full') ? ' with the new conninfo' : ' with the old conninfo'}` : 'no walreceiver running';
        throw new VerificationFailed(`the walreceiver did not stream with sslmode=verify-full within ${waitMs / 1000} s (${seen}); the standby's log says why (e.g. "certificate verify failed", "no pg_hba.conf entry")`);
      }
      view.ok(`walreceiver pid ${receiver.last!.pid} is streaming from ${receiver.last!.senderHost}:${receiver.last!.senderPort} with sslmode=verify-full (pg_stat_wal_receiver)`);
      return 'done';
    },
  };
}

/** Until pg_stat_wal_receiver shows the conninfo in use has verify-full and status streaming. */
async function waitForReceiver(read: () => Promise<WalReceiverView | null>, waitMs: number, checkpoint: () => void): Promise<{ ok: boolean; last: WalReceiverView | null }> {
  const deadline = Date.now() + waitMs;
  let last: WalReceiverView | null = null;
  for (;;) {
    last = await read();
    if (last && last.status === 'streaming' && /(^|\s)sslmode=verify-full(\s|$)/.test(last.conninfo ?? '')) return { ok: true, last };
    if (Date.now() >= deadline) return { ok: false, last };
    checkpoint();
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * On the primary (an admin connection given with --primary): this standby's
 * walsender, by application_name, with pg_stat_ssl showing TLS. Read-only there.
 */
export function primaryViewStep(primary: ConnectionTarget | undefined, applicationName: string, waitMs: number, report: StandbyReport): Step {
  return {
    id: 'standby-primary',
    title: 'On the primary: the walsender is on TLS',
    async run({ view, checkpoint }) {
      if (!primary) {
        report.verification.primaryWalsenderSkipped = 'no --primary connection given: proven on the standby only (a verify-full walreceiver that streams is on TLS)';
        view.detail(report.verification.primaryWalsenderSkipped);
        return 'skipped';
      }
      const found = await withClient(primary, async (client) => {
        const deadline = Date.now() + waitMs;
        for (;;) {
          const mine = (await readWalsenders(client)).filter((w) => w.applicationName === applicationName && w.state === 'streaming');
          if (mine.length > 0 && mine.every((w) => w.tls)) return mine[0];
          if (Date.now() >= deadline) return mine[0];
          checkpoint();
          await new Promise((r) => setTimeout(r, 200));
        }
      });
      if (found) report.verification.primaryWalsender = found;
      if (!found?.tls) {
        throw new VerificationFailed(`on the primary (${primary.host}:${primary.port}), ${found ? `the walsender ${walsenderText(found)} is not on TLS` : `no streaming walsender with application_name "${applicationName}" appeared within ${waitMs / 1000} s`}`);
      }
      view.ok(`on the primary: ${walsenderText(found)}`);
      return 'done';
    },
  };
}
