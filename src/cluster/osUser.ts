/** Who runs a throwaway server: postgres refuses root, so root hands it to the postgres OS user. */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

export interface ServerOsUser {
  name: string;
  uid: number;
  gid: number;
  /** Set when we must switch user to start the server (tests running as root). */
  switchTo: boolean;
}

export function serverOsUser(): ServerOsUser {
  const me = userInfo();
  if (me.uid !== 0) return { name: me.username, uid: me.uid, gid: me.gid, switchTo: false };
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but there is no "postgres" OS user to run the server as (PostgreSQL refuses root): create one with useradd --system postgres');
  const [, , uid, gid] = line.split(':');
  return { name: 'postgres', uid: Number(uid), gid: Number(gid), switchTo: true };
}
