/**
 * Parses one pg_hba.conf text into records, with the checks and messages of
 * PostgreSQL's parse_hba_line() for the target major. Pure: include targets
 * and @file references are returned, not read (see load.ts). Every byte is
 * kept: serializeLines(result.lines) === text.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { prefixOfMask } from './addresses.js';
import type { ConnectionType, HbaAddress, HbaError, HbaField, HbaRecord, HbaRule, HbaToken, ParsedHbaFile } from './model.js';
import { hbaSyntax, type HbaSyntax } from './syntax.js';
import { logicalLines, splitPhysicalLines, tokenizeLine, type LogicalLine } from './tokenize.js';

const connectionTypes = new Set<ConnectionType>(['local', 'host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc']);

export interface ParseOptions {
  path: string;
  major: number;
  /** Expands an @file token into the tokens of that file (load.ts supplies it). */
  expandAtFile?: (name: string, fromFile: string) => { tokens: HbaToken[]; error?: string };
}

class LineError extends Error {
  constructor(
    message: string,
    readonly token?: HbaToken,
  ) {
    super(message);
  }
}

export function parseHbaText(text: string, options: ParseOptions): ParsedHbaFile {
  const syntax = hbaSyntax(options.major);
  const lines = splitPhysicalLines(text);
  const records: HbaRecord[] = [];
  const errors: HbaError[] = [];
  for (const logical of logicalLines(lines, syntax.continuations)) {
    const fail = (message: string, line = logical.firstLine, column = 1) => errors.push({ file: options.path, line, column, message });
    if (syntax.maxLineBytes !== undefined && Buffer.byteLength(logical.text) > syntax.maxLineBytes) {
      fail(`authentication file line too long (PostgreSQL ${syntax.major} reads at most ${syntax.maxLineBytes + 1} bytes per line)`);
      continue;
    }
    const tokenized = tokenizeLine(logical, { maxTokenBytes: syntax.maxTokenBytes });
    if (tokenized.error) {
      fail(tokenized.error.message, tokenized.error.line, tokenized.error.column);
      continue;
    }
    if (tokenized.unterminatedQuote) {
      // PostgreSQL silently takes the rest of the line as one token; refuse rather than guess.
      fail('unterminated quoted string: a closing " is missing', tokenized.unterminatedQuote.line, tokenized.unterminatedQuote.column);
      continue;
    }
    if (tokenized.fields.length === 0) continue;
    let fields: HbaField[];
    try {
      fields = expandAtFiles(tokenized.fields, options);
      const record = parseRecord(fields, logical, syntax, options.path, text, lines);
      records.push(record);
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      fail(error.message, error.token && error.token.line > 0 ? error.token.line : logical.firstLine, error.token && error.token.column > 0 ? error.token.column : 1);
    }
  }
  return { path: options.path, lines, records, errors };
}

function expandAtFiles(fields: HbaField[], options: ParseOptions): HbaField[] {
  if (!fields.some((field) => field.some((token) => token.value.startsWith('@')))) return fields;
  return fields.map((field) =>
    field.flatMap((token) => {
      if (token.quoted || token.value.length < 2 || !token.value.startsWith('@')) return [token];
      if (!options.expandAtFile) return [token];
      const expanded = options.expandAtFile(token.value.slice(1), options.path);
      if (expanded.error) throw new LineError(expanded.error, token);
      return expanded.tokens;
    }),
  );
}

function parseRecord(fields: HbaField[], logical: LogicalLine, syntax: HbaSyntax, file: string, text: string, lines: ReturnType<typeof splitPhysicalLines>): HbaRecord {
  const first = fields[0][0];
  if (syntax.includeDirectives && fields.length === 2 && ['include', 'include_if_exists', 'include_dir'].includes(first.value)) {
    return { kind: 'include', directive: first.value as 'include', file, line: logical.firstLine, target: fields[1][0].value };
  }
  if (fields[0].length > 1) throw new LineError('multiple values specified for connection type', fields[0][1]);
  if (!connectionTypes.has(first.value as ConnectionType)) {
    const hint = !syntax.includeDirectives && first.value.startsWith('include') ? ` (include directives need PostgreSQL 16 or later; this is ${syntax.major})` : '';
    throw new LineError(`invalid connection type "${first.value}"${hint}: expected local, host, hostssl, hostnossl, hostgssenc or hostnogssenc`, first);
  }
  const type = first.value as ConnectionType;
  let index = 1;
  const next = (what: string, hint = ''): HbaField => {
    const field = fields[index++];
    if (!field) throw new LineError(`end-of-line before ${what}${hint}`, lastToken(fields));
    return field;
  };
  const databases = next('database specification');
  const users = next('role specification');
  if (syntax.regularExpressions) for (const token of [...databases, ...users]) checkRegex(token);

  let address: HbaAddress | undefined;
  if (type !== 'local') {
    const addressField = next('IP address specification');
    if (addressField.length > 1) throw new LineError('multiple values specified for host address', addressField[1]);
    address = parseAddress(addressField[0], () => next('netmask specification', ' (give an address range in CIDR notation, or a separate netmask)'));
  }
  const methodField = next('authentication method');
  if (methodField.length > 1) throw new LineError('multiple values specified for authentication type', methodField[1]);
  const methodToken = methodField[0];
  if (!syntax.methods.has(methodToken.value)) {
    throw new LineError(`invalid authentication method "${methodToken.value}" for PostgreSQL ${syntax.major}: expected one of ${[...syntax.methods].join(', ')}`, methodToken);
  }
  const method = type === 'local' && methodToken.value === 'ident' ? 'peer' : methodToken.value;
  if (type === 'local' && method === 'gss') throw new LineError('gssapi authentication is not supported on local sockets', methodToken);
  if (type !== 'local' && method === 'peer') throw new LineError('peer authentication is only supported on local sockets', methodToken);
  if (type !== 'hostssl' && method === 'cert') throw new LineError('cert authentication is only supported on hostssl connections', methodToken);

  const options: { name: string; value: string }[] = [];
  for (const field of fields.slice(index)) {
    for (const token of field) {
      const eq = token.value.indexOf('=');
      if (eq === -1) throw new LineError(`authentication option not in name=value format: ${token.value}`, token);
      const option = { name: token.value.slice(0, eq), value: token.value.slice(eq + 1) };
      checkOption(option, method, type, syntax, token);
      options.push(option);
    }
  }
  checkMandatoryOptions(method, options, methodToken);

  const last = lines[logical.firstLine - 2 + logical.lineCount];
  const rule: HbaRule = {
    kind: 'rule',
    file,
    line: logical.firstLine,
    lineCount: logical.lineCount,
    type,
    typeToken: first,
    databases,
    users,
    address,
    method,
    options,
    raw: text.slice(lines[logical.firstLine - 1].start, last.start + last.text.length + last.eol.length),
  };
  return rule;
}

function lastToken(fields: HbaField[]): HbaToken {
  const field = fields[fields.length - 1];
  return field[field.length - 1];
}

function checkRegex(token: HbaToken): void {
  if (!token.value.startsWith('/')) return;
  try {
    new RegExp(token.value.slice(1));
  } catch (error) {
    throw new LineError(`invalid regular expression "${token.value.slice(1)}": ${(error as Error).message}`, token);
  }
}

function parseAddress(token: HbaToken, readMask: () => HbaField): HbaAddress {
  if (!token.quoted && (token.value === 'all' || token.value === 'samehost' || token.value === 'samenet')) {
    return { kind: token.value, text: token.value };
  }
  const slash = token.value.indexOf('/');
  const host = slash === -1 ? token.value : token.value.slice(0, slash);
  const family = isIPv4(host) ? 4 : isIPv6(host) ? 6 : undefined;
  if (family === undefined) {
    // getaddrinfo(AI_NUMERICHOST) fails with EAI_NONAME: PostgreSQL takes it as a host name.
    if (slash !== -1) throw new LineError(`specifying both host name and CIDR mask is invalid: "${token.value}"`, token);
    return { kind: 'hostname', text: token.value, hostname: host };
  }
  const maxPrefix = family === 4 ? 32 : 128;
  if (slash !== -1) {
    const prefixText = token.value.slice(slash + 1);
    const prefix = /^\d+$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= maxPrefix)) throw new LineError(`invalid CIDR mask in address "${token.value}"`, token);
    return { kind: 'ip', text: token.value, ip: host, family, prefix };
  }
  const maskField = readMask();
  if (maskField.length > 1) throw new LineError('multiple values specified for netmask', maskField[1]);
  const maskToken = maskField[0];
  const maskFamily = isIPv4(maskToken.value) ? 4 : isIPv6(maskToken.value) ? 6 : undefined;
  if (maskFamily === undefined) throw new LineError(`invalid IP mask "${maskToken.value}"`, maskToken);
  if (maskFamily !== family) throw new LineError('IP address and mask do not match', maskToken);
  // PostgreSQL accepts a non-contiguous mask; it simply compares bit by bit.
  const prefix = prefixOfMask(maskToken.value) ?? -1;
  return { kind: 'ip', text: `${token.value} ${maskToken.value}`, ip: host, family, prefix, netmask: maskToken.value };
}

function checkOption(option: { name: string; value: string }, method: string, type: ConnectionType, syntax: HbaSyntax, token: HbaToken): void {
  const validFor = syntax.options[option.name];
  if (!validFor) throw new LineError(`unrecognized authentication option name: "${option.name}"`, token);
  if (option.name === 'clientcert' || option.name === 'clientname') {
    if (type !== 'hostssl') throw new LineError(`${option.name} can only be configured for "hostssl" rows`, token);
    if (option.name === 'clientname' && !['CN', 'DN'].includes(option.value)) throw new LineError(`invalid value for clientname: "${option.value}"`, token);
    if (option.name === 'clientcert') {
      if (!syntax.clientcertValues.has(option.value)) throw new LineError(`invalid value for clientcert: "${option.value}"`, token);
      if (method === 'cert' && option.value !== 'verify-full' && option.value !== '1') {
        throw new LineError('clientcert can only be set to "verify-full" when using "cert" authentication', token);
      }
    }
    return;
  }
  if (!validFor.includes(method)) {
    throw new LineError(`authentication option "${option.name}" is only valid for authentication methods ${validFor.join(', ')}`, token);
  }
}

function checkMandatoryOptions(method: string, options: { name: string; value: string }[], token: HbaToken): void {
  const has = (name: string) => options.some((o) => o.name === name);
  if (method === 'ldap') {
    const simpleBind = has('ldapprefix') || has('ldapsuffix');
    const searchBind = ['ldapbasedn', 'ldapbinddn', 'ldapbindpasswd', 'ldapsearchattribute', 'ldapsearchfilter'].some(has);
    if (simpleBind && searchBind) throw new LineError('cannot mix options for simple bind and search+bind modes', token);
    if (!simpleBind && !has('ldapbasedn') && !has('ldapurl')) {
      throw new LineError('authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set', token);
    }
    if (has('ldapsearchattribute') && has('ldapsearchfilter')) throw new LineError('cannot use ldapsearchattribute together with ldapsearchfilter', token);
  }
  if (method === 'radius') {
    if (!has('radiusservers')) throw new LineError('authentication method "radius" requires argument "radiusservers" to be set', token);
    if (!has('radiussecrets')) throw new LineError('authentication method "radius" requires argument "radiussecrets" to be set', token);
  }
  if (method === 'oauth') {
    if (!has('scope')) throw new LineError('authentication method "oauth" requires argument "scope" to be set', token);
    if (!has('issuer')) throw new LineError('authentication method "oauth" requires argument "issuer" to be set', token);
  }
}
