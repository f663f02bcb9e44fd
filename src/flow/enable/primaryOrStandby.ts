/**
 * `pgssl enable` on one admin session. The session's first read, the server
 * facts (pg_is_in_recovery() among them), chooses the plan: the primary's
 * (./run.ts) or the standby's (../standby/run.ts). That plan goes on on the
 * same session, and its preflight starts from those facts: no connection of
 * its own just to ask which kind of server this is.
 */
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import { discoverServerFacts } from '../../server/facts.js';
import type { EnableView } from '../../ui/enableView.js';
import type { EnableReport } from '../report.js';
import { withRunSession } from '../session.js';
import type { StandbyReport } from '../standby/report.js';
import { runStandbyEnable, type StandbyOptions } from '../standby/run.js';
import type { EnableOptions } from './options.js';
import { runEnable } from './run.js';

export type EnableRole = 'primary' | 'standby';

export type ChosenPlan = { role: 'primary'; options: EnableOptions } | { role: 'standby'; options: StandbyOptions };

export type EnableOutcome = { role: 'primary'; report: EnableReport } | { role: 'standby'; report: StandbyReport };

/**
 * Opens the run session, reads the server facts, asks `choose` for the plan
 * of that role, and runs it on the session. `choose` checks the flags that
 * only one role takes and throws to refuse them: nothing is changed then
 * (no step has begun, the run lock is not taken). Changes what the chosen
 * plan changes; throws what it throws (a failure to connect, too).
 */
export async function runEnableOnServer(target: ConnectionTarget, view: EnableView, choose: (role: EnableRole) => ChosenPlan): Promise<EnableOutcome> {
  return withRunSession(target, view, async (client, stop) => {
    const facts = await discoverServerFacts(client, []);
    const chosen = choose(facts.inRecovery ? 'standby' : 'primary');
    if (chosen.role === 'standby') return { role: 'standby', report: await runStandbyEnable(chosen.options, { client, stop }, facts) };
    return { role: 'primary', report: await runEnable(chosen.options, { client, stop }, facts) };
  });
}
