/**
 * The two log_connections messages that say who connected and how, parsed
 * from their text (the same in stderr, csvlog and jsonlog). Pure.
 *
 * postinit.c PerformAuthentication() and postmaster.c BackendInitialize():
 *   connection received: host=H[ port=P]
 *   [replication ]connection authorized: user=U[ database=D][ application_name=A]
 *       [ SSL enabled (protocol=…, cipher=…, bits=…[, compression=…])][ GSS (…)]
 * 12/13 end the SSL clause with `compression=on|off`, 14+ do not. A walsender
 * line never names the database (physical and logical alike). Messages are
 * translated when lc_messages is not English: those are not recognised.
 */

export type ConnectionMessage =
  | { kind: 'received'; host: string }
  | { kind: 'authorized'; replication: boolean; user: string; database?: string; application?: string; tls: boolean; tlsVersion?: string; gssEncrypted: boolean };

const received = /^connection received: host=(\S+)(?: port=\d+)?$/;
// Lazy fields anchored at the end: a value may hold blanks (application_name=app x).
const authorized = /^(replication )?connection authorized: user=(.*?)(?: database=(.*?))?(?: application_name=(.*?))?( SSL enabled \((.*?)\))?( GSS \((.*?)\))?$/s;

export function parseConnectionMessage(message: string): ConnectionMessage | undefined {
  const text = message.trimEnd();
  const r = received.exec(text);
  if (r) return { kind: 'received', host: r[1] };
  const a = authorized.exec(text);
  if (!a) return undefined;
  const [, replication, user, database, application, ssl, sslDetail, , gssDetail] = a;
  return {
    kind: 'authorized',
    replication: Boolean(replication),
    user,
    database: database || undefined,
    application: application || undefined,
    tls: Boolean(ssl),
    tlsVersion: sslDetail ? /protocol=([^,]+)/.exec(sslDetail)?.[1] : undefined,
    gssEncrypted: gssDetail ? /encrypted=yes/.test(gssDetail) : false,
  };
}
