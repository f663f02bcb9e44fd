/**
 * The lockout check, pure and before any change: after the planned rewrite,
 * the admin's next connection (same conninfo, same sslmode) and every live
 * TLS session must still match an allowing rule. Throws UsageError otherwise.
 */
import { UsageError } from '../errors.js';
import { describeRule } from '../hba/describe.js';
import { evaluateHba, type ConnectionAttempt } from '../hba/evaluate.js';
import { diskReader, loadHba, overlayReader } from '../hba/load.js';
import type { RewritePlan } from '../hba/rewrite.js';
import { isSocketHost, type ConnectionTarget } from '../server/connectionTarget.js';
import type { Preflight } from './preflight.js';

/** The admin must still get in the way they came, and so must every live TLS session. */
export function checkNoLockout(pre: Preflight, plan: RewritePlan, target: ConnectionTarget): void {
  if (plan.changes.length === 0) return;
  const after = loadHba(pre.hbaFile, pre.facts.major, overlayReader(diskReader, plan.files)).rules;
  const options = { regularExpressions: pre.facts.major >= 16 };
  const admin: ConnectionAttempt = isSocketHost(target.host)
    ? { local: true, ssl: false, database: target.database, user: pre.facts.currentUser, memberOf: pre.adminMemberOf }
    : { local: false, ssl: target.sslmode !== 'disable', database: target.database, user: pre.facts.currentUser, memberOf: pre.adminMemberOf, address: pre.facts.ownClientAddr ?? undefined };
  const verdict = evaluateHba(after, admin, options);
  if (verdict.verdict !== 'allow') {
    const before = evaluateHba(pre.hba.rules, { ...admin, ssl: pre.facts.ownTls }, options);
    throw new UsageError(
      `the rewrite would lock you out: this session came in ${admin.local ? 'over the local socket' : `from ${admin.address} ${pre.facts.ownTls ? 'with' : 'without'} TLS`} through ${before.rule ? describeRule(before.rule) : 'no rule'}, and with sslmode=${target.sslmode} your next connection would be ${verdict.rule ? `rejected by ${describeRule(verdict.rule)}` : 'matched by no rule'}. Nothing was changed. Connect over the local socket (sudo -u postgres pgssl enable), or with sslmode=prefer/require, or leave that rule as it is (--only-address/--only-db, or deselect it).`,
    );
  }
  for (const session of pre.sessions.filter((s) => s.tls && s.clientAddr)) {
    const result = evaluateHba(after, { local: false, ssl: true, database: session.database ?? '', user: session.user ?? '', address: session.clientAddr!, physicalReplication: session.backendType === 'walsender' && !session.database }, options);
    if (result.verdict !== 'allow' && result.uncertain.length === 0) {
      throw new UsageError(`the rewrite would refuse the live TLS session pid ${session.pid} (${session.user}@${session.database ?? 'replication'} from ${session.clientAddr}) when it reconnects; nothing was changed.`);
    }
  }
}

