/**
 * Step 1, read-only: learn the server and refuse early. Everything that can
 * make pgssl stop is checked here, before any change: version, privileges,
 * allow_alter_system, that we run on the server's host, a readable and valid
 * pg_hba.conf (by our parser and by the server's), TCP listening, the run lock.
 */
import { OperationalError, UsageError } from '../errors.js';
import { describeErrors } from '../hba/describe.js';
import { loadHba, type LoadedHba } from '../hba/load.js';
import { takeRunLock } from '../server/advisoryLock.js';
import type { Client } from '../server/connect.js';
import { discoverServerFacts, type ServerFacts } from '../server/facts.js';
import { isRejectedRule, readServerHbaRules } from '../server/hbaFileRules.js';
import type { Limitation } from '../server/limitations.js';
import { checkLocality } from '../server/locality.js';
import { readTcpSessions, type LiveSession } from '../server/sessions.js';
import { readListenAddresses, type ListenView } from '../status/listen.js';
import { detectConfigurationManagers, layoutFromSettings, managedServerMessage, type ConfigurationManager } from '../replication/managers.js';

export interface Preflight {
  facts: ServerFacts;
  systemIdentifier: string;
  dataDirectory: string;
  hbaFile: string;
  autoConfPath: string;
  listen: ListenView;
  port: number;
  hba: LoadedHba;
  sessions: LiveSession[];
  adminMemberOf: string[];
  /** The tools that regenerate this server's configuration; empty unless the run asked for 'report'. */
  managers: ConfigurationManager[];
}

const minimumMajor = 12;

/** "hostssl record cannot match because SSL is disabled" (hba.c; reported while ssl = off). */
function isHostsslWithoutSsl(rule: { error: string | null }): boolean {
  return rule.error !== null && /hostssl record cannot match because SSL is disabled/i.test(rule.error);
}

export interface ServerBasics {
  facts: ServerFacts;
  dataDirectory: string;
  port: number;
  /** The tools that regenerate this server's configuration; empty unless the run asked for 'report'. */
  managers: ConfigurationManager[];
}

/**
 * What a configuration manager (Patroni, CloudNativePG…) means for this run.
 * 'refuse', the default: every command that changes the server, and its
 * --dry-run too (the plan it shows is one pgssl would refuse to apply, and
 * its "run it without --dry-run" would lead to that refusal). 'report': a
 * run that only reads and leaves the server to its manager (rotate --check,
 * the expiry watch of a monitoring cron), which names the manager instead.
 */
export type ManagedServer = 'refuse' | 'report';

/**
 * The checks every command that changes a server makes first, primary or
 * standby: version, superuser, allow_alter_system, that we run on the
 * server's host, and that no configuration manager regenerates its files
 * (unless `managed` is 'report': then the managers are returned).
 * `facts`: what this session has just read (enable reads them first to
 * choose its plan); otherwise they are read here. Read-only; throws the refusal.
 */
export async function checkServerBasics(client: Client, options: { managed?: ManagedServer; facts?: ServerFacts } = {}): Promise<ServerBasics> {
  const limitations: Limitation[] = [];
  const facts = options.facts ?? (await discoverServerFacts(client, limitations));
  if (facts.major < minimumMajor) throw new OperationalError(`PostgreSQL ${facts.versionText.split(' ')[1]} is too old: pgssl supports 12 and later.`);
  if (!facts.isSuperuser) {
    throw new OperationalError(
      `role "${facts.currentUser}" is not a superuser; nothing was changed. pgssl needs one for ALTER SYSTEM, pg_reload_conf() and reading pg_hba_file_rules: run it as the postgres OS user (sudo -u postgres pgssl …) or connect with -U postgres.`,
    );
  }
  if (facts.settings.allow_alter_system?.value === 'off') {
    throw new OperationalError(
      'allow_alter_system = off on this server, so pgssl cannot set ssl and its files with ALTER SYSTEM; nothing was changed. Set allow_alter_system = on in postgresql.conf and reload, or configure ssl by hand (pgssl enable --dry-run shows the settings).',
    );
  }
  const dataDirectory = facts.settings.data_directory.value;
  const port = Number(facts.settings.port.value);
  const locality = checkLocality(dataDirectory, port, facts.postmasterStartEpoch);
  if (locality.local !== true) {
    throw new OperationalError(`pgssl must run on the database server's host, as root or the postgres OS user (it writes certificate files and pg_hba.conf): ${locality.reason}. Nothing was changed.`);
  }
  // Patroni, CloudNativePG…: they regenerate pg_hba.conf and postgresql.conf, so pgssl's edits would not last.
  const managers = detectConfigurationManagers(layoutFromSettings(facts.settings)!);
  if (managers.length > 0 && options.managed !== 'report') throw new UsageError(managedServerMessage(managers));
  return { facts, dataDirectory, port, managers };
}

/** `options.facts` and `options.managed`: as for checkServerBasics. Read-only but for the run lock (`options.lock`); throws the refusal. */
export async function preflight(client: Client, options: { lock: boolean; managed?: ManagedServer; facts?: ServerFacts }): Promise<Preflight> {
  const { facts, dataDirectory, port, managers } = await checkServerBasics(client, { managed: options.managed, facts: options.facts });
  const listen = readListenAddresses(facts.settings.listen_addresses?.value);
  if (listen.noTcp) {
    throw new OperationalError("listen_addresses is empty: the server accepts no TCP connections, so TLS can neither be used nor verified. Set listen_addresses (e.g. '*') and restart first; nothing was changed.");
  }
  const hbaFile = facts.settings.hba_file.value;
  const hba = loadHba(hbaFile, facts.major);
  if (hba.errors.length > 0) {
    throw new UsageError(`pgssl cannot read ${hbaFile} the way PostgreSQL ${facts.major} does; nothing was changed:\n${describeErrors(hba.errors)}`);
  }
  const serverRules = await readServerHbaRules(client);
  // hostssl lines written before TLS is on are refused only until ssl = on, which is what pgssl is about to do.
  const sslOff = facts.settings.ssl?.value !== 'on';
  const rejected = serverRules.filter((rule) => isRejectedRule(rule) && !(sslOff && isHostsslWithoutSsl(rule)));
  if (rejected.length > 0) {
    throw new UsageError(
      `the server itself rejects lines of ${hbaFile} (pg_hba_file_rules); fix them first, nothing was changed:\n${rejected.map((r) => `  ${r.fileName ?? hbaFile}:${r.lineNumber}: ${r.error ?? 'rejected without a message (see the server log)'}`).join('\n')}`,
    );
  }
  if (options.lock) await takeRunLock(client);
  const identity = await readIdentity(client);
  return {
    facts,
    systemIdentifier: identity.systemIdentifier,
    dataDirectory,
    hbaFile,
    autoConfPath: `${dataDirectory}/postgresql.auto.conf`,
    listen,
    port,
    hba,
    sessions: await readTcpSessions(client),
    adminMemberOf: identity.memberOf,
    managers,
  };
}

/** The system identifier (journals belong to it) and the roles the admin is a member of. */
export async function readIdentity(client: Client): Promise<{ systemIdentifier: string; memberOf: string[] }> {
  const { rows } = await client.query(
    `SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,
            array(SELECT b.rolname FROM pg_roles b WHERE b.oid <> r.oid AND pg_has_role(r.oid, b.oid, 'MEMBER'))::text[] AS member_of
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  return { systemIdentifier: rows[0].system_identifier, memberOf: rows[0].member_of };
}
