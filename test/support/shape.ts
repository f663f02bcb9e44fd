/**
 * A tiny structural validator for --json documents: a shape lists each field's
 * type ('string', 'number', 'boolean', 'null', unions with '|', '?' for
 * optional), nested objects, arrays as [shape], and 'any'. Returns the list of
 * mismatches so a test shows them all at once.
 */
export type Shape = string | Shape[] | { [key: string]: Shape } | ((value: unknown, path: string) => string[]);

export function shapeErrors(value: unknown, shape: Shape, path = '$'): string[] {
  if (typeof shape === 'function') return shape(value, path);
  if (typeof shape === 'string') {
    const optional = shape.endsWith('?');
    const kinds = shape.replace(/\?$/, '').split('|');
    if (value === undefined) return optional ? [] : [`${path}: missing (expected ${shape})`];
    if (kinds.includes('any')) return [];
    const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return kinds.includes(kind) ? [] : [`${path}: expected ${shape}, got ${kind}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    return value.flatMap((item, i) => shapeErrors(item, shape[0], `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
  return Object.entries(shape).flatMap(([key, sub]) => {
    if (key.endsWith('?')) {
      const name = key.slice(0, -1);
      const v = (value as Record<string, unknown>)[name];
      return v === undefined ? [] : shapeErrors(v, sub, `${path}.${name}`);
    }
    return shapeErrors((value as Record<string, unknown>)[key], sub, `${path}.${key}`);
  });
}

export const oneOf =
  (...allowed: unknown[]) =>
  (value: unknown, path: string): string[] =>
    allowed.includes(value) ? [] : [`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`];

const certificateShape: Shape = {
  subject: 'string',
  issuer: 'string',
  serialNumber: 'string',
  subjectAltNames: ['string'],
  notBefore: 'string',
  notAfter: 'string',
  daysLeft: 'number',
  keyType: 'string',
  keyBits: 'number?',
  selfSigned: 'boolean',
  isCA: 'boolean',
  fingerprintSha256: 'string',
};

export const findingShape: Shape = {
  id: (v, p) => (typeof v === 'string' && /^[A-Z][A-Z0-9_]+$/.test(v) ? [] : [`${p}: not a stable finding ID`]),
  severity: oneOf('error', 'warning', 'info'),
  message: 'string',
  'fix?': 'string',
  'items?': ['string'],
};

export const statusReportShape: Shape = {
  pgssl: 'string',
  command: oneOf('status'),
  schemaVersion: oneOf(1),
  checkedAt: 'string',
  connection: { host: 'string', port: 'number', user: 'string', database: 'string', tls: 'boolean' },
  server: {
    version: 'string',
    versionNum: 'number',
    major: 'number',
    currentUser: 'string',
    superuser: 'boolean',
    inRecovery: 'boolean',
    settings: (value, path) =>
      typeof value === 'object' && value !== null
        ? Object.entries(value).flatMap(([k, v]) =>
            shapeErrors(v, { name: 'string', value: 'string', source: 'string', sourcefile: 'string|null', sourceline: 'number|null', pendingRestart: 'boolean' }, `${path}.${k}`),
          )
        : [`${path}: expected an object`],
    'fileSettings?': [{ name: 'string|null', setting: 'string|null', sourcefile: 'string|null', sourceline: 'number|null', applied: 'boolean', error: 'string|null' }],
  },
  listen: { addresses: 'string|null', localOnly: 'boolean', noTcp: 'boolean' },
  tls: {
    probedAt: 'string|null',
    accepted: 'boolean',
    'reason?': 'string',
    'protocol?': 'string',
    'cipher?': 'string',
    'cipherBits?': 'number',
    'servedCertificate?': certificateShape,
    'servedChainLength?': 'number',
    'servedCertificateProblems?': [{ id: 'string', severity: oneOf('error', 'warning'), message: 'string', fix: 'string' }],
  },
  weakTls: {
    'skipped?': 'string',
    results: [
      {
        probe: oneOf('TLSv1', 'TLSv1.1', 'static-rsa', 'cbc', '3des', 'rc4', 'null', 'anonymous', 'export'),
        kind: oneOf('protocol', 'cipher'),
        outcome: oneOf('accepted', 'refused', 'untestable', 'failed'),
        'protocol?': 'string',
        'cipher?': 'string',
        'reason?': 'string',
      },
    ],
  },
  locality: { local: oneOf(true, false, 'unknown'), 'reason?': 'string' },
  files: [
    {
      role: oneOf('cert', 'key', 'ca'),
      setting: 'string',
      path: 'string',
      exists: 'boolean',
      readable: 'boolean',
      'problem?': 'string',
      'mode?': 'string',
      'ownerUid?': 'number',
      'certificate?': certificateShape,
      'certificateCount?': 'number',
      'permissionProblem?': 'string',
      'matchesCertificate?': 'boolean',
      'passphraseProtected?': 'boolean',
    },
  ],
  'hba?': {
    rules: [
      {
        fileName: 'string|null',
        lineNumber: 'number',
        type: 'string|null',
        database: 'array|null',
        userName: 'array|null',
        address: 'string|null',
        netmask: 'string|null',
        authMethod: 'string|null',
        options: 'array|null',
        error: 'string|null',
      },
    ],
  },
  'sessions?': {
    withoutTls: [
      {
        pid: 'number',
        user: 'string|null',
        database: 'string|null',
        clientAddr: 'string|null',
        applicationName: 'string|null',
        backendType: 'string',
        tls: 'boolean',
        tlsVersion: 'string|null',
        cipher: 'string|null',
      },
    ],
    otherRolesHidden: 'boolean',
  },
  limitations: [{ what: 'string', reason: 'string' }],
  findings: [findingShape],
  compliance: oneOf('compliant', 'not-compliant', 'unknown'),
  exitCode: oneOf(0, 1, 3),
};
