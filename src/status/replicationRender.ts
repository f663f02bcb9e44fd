/** The status report's replication and configuration-manager lines. Pure. */
import { walsenderText } from '../replication/walsenders.js';
import type { Style } from '../ui/style.js';
import type { StatusReport } from './report.js';

export function renderReplication(report: StatusReport, style: Style): string[] {
  const lines: string[] = [];
  const replication = report.replication;
  if (replication && replication.walsenders.length > 0) {
    lines.push('', style.bold('Replication') + `: ${replication.walsenders.length} walsender(s)`);
    for (const w of replication.walsenders) lines.push(`  ${w.tls || w.clientAddr === null ? style.ok('✔') : style.bad('✖')} ${walsenderText(w)}`);
  }
  const standby = replication?.standby;
  if (standby) {
    const view = standby.primaryConninfo;
    lines.push('', style.bold('Standby') + ' (pg_is_in_recovery())');
    if (view.security === 'none') lines.push('  primary_conninfo is empty (no streaming replication)');
    else {
      lines.push(`  primary_conninfo: host ${view.host ?? '(default)'}${view.port ? ` port ${view.port}` : ''}, sslmode ${view.sslmode ?? '(not set: prefer)'}${view.sslrootcert ? `, sslrootcert ${view.sslrootcert}` : ''}`);
    }
    const receiver = standby.walReceiver;
    lines.push(`  walreceiver: ${receiver ? `${receiver.status}${receiver.senderHost ? ` from ${receiver.senderHost}:${receiver.senderPort}` : ''}` : 'not running'}`);
  }
  for (const manager of report.managers ?? []) lines.push('', style.bold('Managed by ') + style.warn(manager.tool) + `: ${manager.evidence[0]}`);
  return lines;
}
