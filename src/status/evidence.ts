/** Everything `pgssl status` observed, as plain data (also the --json shape). */
import type { CertificateSummary } from '../certs/x509.js';
import type { ConfirmWindows } from '../flow/confirm/settle.js';
import type { Limitation } from '../server/limitations.js';
import type { LiveSession } from '../server/sessions.js';
import type { FileSetting, SettingFact } from '../server/facts.js';
import type { Locality } from '../server/locality.js';
import type { ServerHbaRule } from '../server/hbaFileRules.js';
import type { WeakTlsOutcome } from '../server/weakTls.js';
import type { ConfigurationManager } from '../replication/managers.js';
import type { ReplicationEvidence } from '../replication/evidence.js';

export interface TlsEvidence {
  probedAt: string | null;
  accepted: boolean;
  reason?: string;
  protocol?: string;
  cipher?: string;
  cipherBits?: number;
  servedCertificate?: CertificateSummary;
  servedChainLength?: number;
  /** Why clients would refuse the served certificate (certs/serverUse.ts): key type, purpose, names. */
  servedCertificateProblems?: { id: string; severity: 'error' | 'warning'; message: string; fix: string }[];
}

/** Handshakes that offered only weak suites or old protocols (server/weakTls.ts). */
export interface WeakTlsEvidence {
  /** Why no handshake ran: the settings leave no room, or TLS does not work at all. */
  skipped?: string;
  results: WeakTlsOutcome[];
}

export interface CertFileEvidence {
  role: 'cert' | 'key' | 'ca';
  setting: string;
  path: string;
  exists: boolean;
  readable: boolean;
  problem?: string;
  mode?: string;
  ownerUid?: number;
  /** For certificates: the first (leaf) certificate. */
  certificate?: CertificateSummary;
  certificateCount?: number;
  /** For the key: PostgreSQL's permission rule, pair match, passphrase. */
  permissionProblem?: string;
  matchesCertificate?: boolean;
  passphraseProtected?: boolean;
}

export interface StatusEvidence {
  checkedAt: string;
  connection: { host: string; port: number; user: string; database: string; tls: boolean };
  server: {
    version: string;
    versionNum: number;
    major: number;
    currentUser: string;
    superuser: boolean;
    inRecovery: boolean;
    settings: Record<string, SettingFact>;
    fileSettings?: FileSetting[];
  };
  listen: { addresses: string | null; localOnly: boolean; noTcp: boolean };
  tls: TlsEvidence;
  weakTls: WeakTlsEvidence;
  locality: Locality;
  files: CertFileEvidence[];
  hba?: { rules: ServerHbaRule[] };
  sessions?: { withoutTls: LiveSession[]; otherRolesHidden: boolean };
  /** rotate --ca's overlap in progress on this server (read from pgssl's state folder), if any. */
  caRotation?: { began: string; oldCa: string; newCa: string; clientCaFile: string };
  /** Walsenders with their TLS state; on a standby, how primary_conninfo connects. */
  replication?: ReplicationEvidence;
  /** Tools that regenerate this server's configuration (Patroni, CloudNativePG…); checked on the server's host only. */
  managers?: ConfigurationManager[];
  limitations: Limitation[];
  /** Runs started with enable --confirm-within that wait for confirmation, or whose window closed (status/confirmWindows.ts). */
  confirmWindows?: ConfirmWindows;
}
