/**
 * Connections as the log tells them: the `connection received` entry (the
 * client's address) and the `connection authorized` entry (role, database,
 * TLS) of one backend, joined by PID. Pure.
 *
 * A PID is reused by later backends, so a received entry is paired with the
 * next authorized entry of the same PID only. When log_line_prefix carries
 * %h/%r (or in csvlog/jsonlog) the address is on the authorized entry itself.
 */
import { parseConnectionMessage } from './connectionMessages.js';
import type { LogRecord } from './logRecords.js';
import type { SampledSession } from '../server/sessions.js';

export interface SeenConnection {
  source: 'log' | 'session';
  pid: number;
  time?: string;
  /** A live session: the last sample that showed it. */
  lastTime?: string;
  /** Client IP; undefined when the log did not say (no receipt entry, no %h). */
  address?: string;
  user: string;
  /** For a physical walsender: undefined. */
  database?: string;
  application?: string;
  replication: boolean;
  tls: boolean;
  gssEncrypted: boolean;
}

export function connectionsFromLog(records: LogRecord[]): SeenConnection[] {
  const receivedFrom = new Map<number, string>();
  const seen: SeenConnection[] = [];
  for (const record of records) {
    const message = parseConnectionMessage(record.message);
    if (!message) continue;
    if (message.kind === 'received') {
      receivedFrom.set(record.pid, message.host);
      continue;
    }
    const host = receivedFrom.get(record.pid) ?? record.host;
    receivedFrom.delete(record.pid);
    // The local socket needs no TLS, and hostssl never applies to it.
    if (host === '[local]') continue;
    seen.push({
      source: 'log',
      pid: record.pid,
      time: record.time,
      address: host || undefined,
      user: message.user,
      // Walsender lines never name the database; csvlog/jsonlog/%d do (empty for physical).
      database: message.replication ? record.database : (message.database ?? record.database),
      application: message.application,
      replication: message.replication,
      tls: message.tls,
      gssEncrypted: message.gssEncrypted,
    });
  }
  return seen;
}

/** Live sessions as connections: seen from backend_start to the last sample. */
export function connectionsFromSessions(sessions: SampledSession[]): SeenConnection[] {
  return sessions.map((s) => ({
    source: 'session',
    pid: s.pid,
    time: s.backendStart,
    lastTime: s.lastSeen,
    address: s.clientAddr ?? undefined,
    user: s.user ?? '',
    database: s.database ?? undefined,
    application: s.applicationName || undefined,
    replication: s.backendType === 'walsender',
    tls: s.tls,
    gssEncrypted: s.gssEncrypted,
  }));
}

/** A live session is also in the log: count it once (same PID, role and address). */
export function withoutLiveDuplicates(fromLog: SeenConnection[], sessions: SampledSession[]): SeenConnection[] {
  const live = new Set(sessions.map((s) => `${s.pid}|${s.user}|${s.clientAddr}`));
  return fromLog.filter((c) => !live.has(`${c.pid}|${c.user}|${c.address}`));
}
