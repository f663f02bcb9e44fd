/**
 * What pg_hba.conf syntax each PostgreSQL major accepts ("The pg_hba.conf
 * File" chapter of each major's docs, and hba.c). Pure data.
 */
export const newestMajor = 18;
export const supportedMajors = [12, 13, 14, 15, 16, 17, 18];

export interface HbaSyntax {
  major: number;
  /** Backslash at end of line continues the record (14+, commit 8f8154a5). */
  continuations: boolean;
  /** include, include_if_exists, include_dir records (16+). */
  includeDirectives: boolean;
  /** "/regex" in the database and user fields (16+). */
  regularExpressions: boolean;
  /** Tokens longer than this are refused (MAX_TOKEN 256 before 16). */
  maxTokenBytes?: number;
  /** Lines longer than this are refused (MAX_LINE 8192 before 14). */
  maxLineBytes?: number;
  methods: readonly string[];
  clientcertValues: Set<string>;
  /** Options and the methods they are valid for ('*' = every method). */
  options: Record<string, string[]>;
}

/** Every method any supported major knows; each major's list is a prefix of it. */
export const allMethods: readonly string[] = ['trust', 'reject', 'md5', 'password', 'scram-sha-256', 'gss', 'sspi', 'ident', 'peer', 'pam', 'ldap', 'radius', 'cert', 'bsd', 'oauth'];
const baseMethods = ['trust', 'reject', 'md5', 'password', 'scram-sha-256', 'gss', 'sspi', 'ident', 'peer', 'pam', 'ldap', 'radius', 'cert', 'bsd'];

const ldapOptions = [
  'ldapserver', 'ldapport', 'ldaptls', 'ldapscheme', 'ldapprefix', 'ldapsuffix', 'ldapbasedn', 'ldapbinddn',
  'ldapbindpasswd', 'ldapsearchattribute', 'ldapsearchfilter', 'ldapurl',
];
const radiusOptions = ['radiusservers', 'radiussecrets', 'radiusports', 'radiusidentifiers'];

export function hbaSyntax(major: number): HbaSyntax {
  if (!supportedMajors.includes(major)) throw new RangeError(`PostgreSQL ${major} is not supported (supported: ${supportedMajors.join(', ')})`);
  const options: Record<string, string[]> = {
    map: ['ident', 'peer', 'gss', 'sspi', 'cert', ...(major >= 18 ? ['oauth'] : [])],
    clientcert: ['*'],
    pamservice: ['pam'],
    pam_use_hostname: ['pam'],
    include_realm: ['gss', 'sspi'],
    compat_realm: ['sspi'],
    upn_username: ['sspi'],
    krb_realm: ['gss', 'sspi'],
    ...Object.fromEntries(ldapOptions.map((o) => [o, ['ldap']])),
    ...Object.fromEntries(radiusOptions.map((o) => [o, ['radius']])),
  };
  if (major >= 14) options.clientname = ['*'];
  if (major >= 18) Object.assign(options, { issuer: ['oauth'], scope: ['oauth'], validator: ['oauth'], delegate_ident_mapping: ['oauth'] });
  return {
    major,
    continuations: major >= 14,
    includeDirectives: major >= 16,
    regularExpressions: major >= 16,
    maxTokenBytes: major < 16 ? 255 : undefined,
    maxLineBytes: major < 14 ? 8191 : undefined,
    methods: [...baseMethods, ...(major >= 18 ? ['oauth'] : [])],
    clientcertValues: new Set(major >= 14 ? ['verify-ca', 'verify-full'] : ['verify-ca', 'verify-full', '0', '1', 'no-verify']),
    options,
  };
}
