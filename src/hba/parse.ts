/**
 * Parses one pg_hba.conf file into records, with the checks and messages of
 * PostgreSQL's parse_hba_line() for the target major. Pure: include targets
 * and @file references are returned, not read (see load.ts). Every byte is
 * kept: records point into the file's bytes by offset (serializeLines(lines)
 * === text).
 */
import { isIPv6 } from 'node:net';
import { ipv4Dotted, isIPv4Text, isLoopbackOnly, parseIPv4, prefixOfMask } from './addresses.js';
import { ArrayFields, BufferFields, type Fields } from './fields.js';
import type { ConnectionType, HbaAddress, HbaError, HbaField, HbaInclude, HbaOption, HbaRecord, HbaToken, ParsedHbaFile, PhysicalLine } from './model.js';
import { connectionTypeNames, RuleTable, type RuleDetails, type RuleFacts } from './ruleTable.js';
import { hbaSyntax, type HbaSyntax } from './syntax.js';
import { fieldsOf, initialQuote, LogicalLineReader, splitPhysicalLines, TokenBuffer, tokenizeLine, tokenValue, tooLongMessage, type LogicalLine } from './tokenize.js';

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

class HbaFile implements ParsedHbaFile {
  errors: HbaError[] = [];
  includes: { record: HbaInclude; afterRules: number }[] = [];
  private decoded: string | undefined;
  private split: PhysicalLine[] | undefined;
  private merged: HbaRecord[] | undefined;

  constructor(
    readonly path: string,
    readonly bytes: Buffer,
    readonly table: RuleTable,
  ) {}

  get text(): string {
    return (this.decoded ??= this.bytes.toString('utf8'));
  }

  get lines(): PhysicalLine[] {
    return (this.split ??= splitPhysicalLines(this.text));
  }

  get records(): HbaRecord[] {
    if (!this.merged) {
      const records: HbaRecord[] = [];
      let rule = 0;
      for (const { record, afterRules } of this.includes) {
        while (rule < afterRules) records.push(this.table.rule(rule++));
        records.push(record);
      }
      while (rule < this.table.count) records.push(this.table.rule(rule++));
      this.merged = records;
    }
    return this.merged;
  }

  fail(line: number, column: number, message: string): void {
    this.errors.push({ file: this.path, line, column, message });
  }
}

function newFacts(): RuleFacts {
  return { type: 'local', method: '', address: undefined, loopbackOnly: true, options: noOptions };
}

/** Rules without options share this one (never pushed to). */
const noOptions: HbaOption[] = Object.freeze([]) as unknown as HbaOption[];

export function parseHbaText(content: string | Buffer, options: ParseOptions): ParsedHbaFile {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const syntax = hbaSyntax(options.major);
  const table = new RuleTable(options.path, bytes, syntax.continuations, (fileStart, line) => reparseRule(bytes, fileStart, line, syntax));
  const file = new HbaFile(options.path, bytes, table);
  const reader = new LogicalLineReader(bytes, syntax.continuations);
  const buffer = new TokenBuffer();
  const bufferFields = new BufferFields(reader, buffer);
  const scratch = newFacts();
  while (reader.nextScanned(buffer, syntax.maxTokenBytes)) {
    if (syntax.maxLineBytes !== undefined && reader.to - reader.from > syntax.maxLineBytes) {
      file.fail(reader.firstLine, 1, `authentication file line too long (PostgreSQL ${syntax.major} reads at most ${syntax.maxLineBytes + 1} bytes per line)`);
      continue;
    }
    if (buffer.tooLongAt >= 0) {
      const { line, column } = reader.position(buffer.tooLongAt);
      file.fail(line, column, tooLongMessage(syntax.maxTokenBytes!));
      continue;
    }
    if (buffer.unterminatedAt >= 0) {
      // PostgreSQL silently takes the rest of the line as one token; refuse rather than guess.
      const { line, column } = reader.position(buffer.unterminatedAt);
      file.fail(line, column, 'unterminated quoted string: a closing " is missing');
      continue;
    }
    if (buffer.fieldCount === 0) continue;
    try {
      const include = includeRecord(bufferFields, reader, syntax, options.path);
      if (include) {
        file.includes.push({ record: include, afterRules: table.count });
      } else if (hasAtFile(reader, buffer)) {
        const fields = expandAtFiles(fieldsOf(reader, buffer), options);
        const facts = parseRuleFields(new ArrayFields(fields), syntax, newFacts());
        table.add(reader, facts, fields[0][0].start, fields[0][0].end, { ...facts, fields });
      } else {
        const facts = parseRuleFields(bufferFields, syntax, scratch);
        table.add(reader, facts, reader.fileOffset(buffer.starts[0]), reader.fileOffset(buffer.ends[0] - 1) + 1);
      }
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      file.fail(error.token && error.token.line > 0 ? error.token.line : reader.firstLine, error.token && error.token.column > 0 ? error.token.column : 1, error.message);
    }
  }
  return file;
}

/** A rule's details, from its line, which parsed cleanly the first time. */
function reparseRule(bytes: Buffer, fileStart: number, line: number, syntax: HbaSyntax): RuleDetails {
  const reader = new LogicalLineReader(bytes, syntax.continuations).seek(fileStart, line);
  reader.next();
  const fields = tokenizeLine(reader, { maxTokenBytes: syntax.maxTokenBytes }).fields;
  return { ...parseRuleFields(new ArrayFields(fields), syntax, newFacts()), fields };
}

/** An unquoted token "@name": the server reads it as a list of names from a file. */
function hasAtFile(logical: LogicalLine, buffer: TokenBuffer): boolean {
  for (let t = 0; t < buffer.count; t++) {
    if (logical.bytes[buffer.starts[t]] === 64 && !(buffer.flags[t] & initialQuote) && tokenValue(logical.bytes, buffer.starts[t], buffer.ends[t], buffer.flags[t]).length > 1) {
      return true;
    }
  }
  return false;
}

function expandAtFiles(fields: HbaField[], options: ParseOptions): HbaField[] {
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

const includeDirectives = ['include', 'include_if_exists', 'include_dir'] as const;

function includeRecord(fields: Fields, logical: LogicalLine, syntax: HbaSyntax, file: string): HbaInclude | undefined {
  if (!syntax.includeDirectives || fields.count !== 2) return undefined;
  const directive = fields.lookup(0, 0, includeDirectives);
  if (directive === -1) return undefined;
  return { kind: 'include', directive: includeDirectives[directive], file, line: logical.firstLine, target: fields.value(1, 0) };
}

/**
 * parse_hba_line(): the checks and messages of the target major. Fills `facts`
 * (the file parse passes one object for every rule, so nothing is allocated
 * for a plain rule).
 */
function parseRuleFields(fields: Fields, syntax: HbaSyntax, facts: RuleFacts): RuleFacts {
  if (fields.size(0) > 1) throw new LineError('multiple values specified for connection type', fields.token(0, 1));
  const typeCode = fields.lookup(0, 0, connectionTypeNames);
  if (typeCode === -1) {
    const firstValue = fields.value(0, 0);
    const hint = !syntax.includeDirectives && firstValue.startsWith('include') ? ` (include directives need PostgreSQL 16 or later; this is ${syntax.major})` : '';
    throw new LineError(`invalid connection type "${firstValue}"${hint}: expected local, host, hostssl, hostnossl, hostgssenc or hostnogssenc`, fields.token(0, 0));
  }
  const type = connectionTypeNames[typeCode];
  const databases = requireField(fields, 1, 'database specification');
  const users = requireField(fields, 2, 'role specification');
  if (syntax.regularExpressions) {
    checkRegexes(fields, databases);
    checkRegexes(fields, users);
  }

  let index = 3;
  facts.address = undefined;
  facts.loopbackOnly = true;
  if (type !== 'local') {
    const addressField = requireField(fields, index++, 'IP address specification');
    if (fields.size(addressField) > 1) throw new LineError('multiple values specified for host address', fields.token(addressField, 1));
    const v4 = fields.ipv4Cidr(addressField, 0);
    if (v4 >= 0) {
      // The common "a.b.c.d/n": no address object needed until someone asks.
      facts.loopbackOnly = v4 >> 8 === 127 && (v4 & 0xff) >= 8;
    } else {
      const address = parseAddress(fields, addressField, index);
      if (address.kind === 'ip' && address.netmask !== undefined) index++;
      facts.address = address;
      facts.loopbackOnly = isLoopbackOnly(address);
    }
  }
  const methodField = requireField(fields, index++, 'authentication method');
  if (fields.size(methodField) > 1) throw new LineError('multiple values specified for authentication type', fields.token(methodField, 1));
  const methodCode = fields.lookup(methodField, 0, syntax.methods);
  if (methodCode === -1) {
    throw new LineError(`invalid authentication method "${fields.value(methodField, 0)}" for PostgreSQL ${syntax.major}: expected one of ${syntax.methods.join(', ')}`, fields.token(methodField, 0));
  }
  const known = syntax.methods[methodCode];
  const method = type === 'local' && known === 'ident' ? 'peer' : known;
  if (type === 'local' && method === 'gss') throw methodError(fields, methodField, 'gssapi authentication is not supported on local sockets');
  if (type !== 'local' && method === 'peer') throw methodError(fields, methodField, 'peer authentication is only supported on local sockets');
  if (type !== 'hostssl' && method === 'cert') throw methodError(fields, methodField, 'cert authentication is only supported on hostssl connections');

  // Options (rare) in their own function: a closure here would cost every rule an allocation.
  const options = index < fields.count || method === 'ldap' || method === 'radius' || method === 'oauth' ? parseOptions(fields, index, methodField, method, type, syntax) : noOptions;

  facts.type = type;
  facts.method = method;
  facts.options = options;
  return facts;
}

function parseOptions(fields: Fields, firstField: number, methodField: number, method: string, type: ConnectionType, syntax: HbaSyntax): HbaOption[] {
  const options: HbaOption[] = [];
  for (let f = firstField; f < fields.count; f++) {
    for (let i = 0; i < fields.size(f); i++) {
      const value = fields.value(f, i);
      const eq = value.indexOf('=');
      if (eq === -1) throw new LineError(`authentication option not in name=value format: ${value}`, fields.token(f, i));
      const option = { name: value.slice(0, eq), value: value.slice(eq + 1) };
      checkOption(option, method, type, syntax, () => fields.token(f, i));
      options.push(option);
    }
  }
  checkMandatoryOptions(method, options, (message) => methodError(fields, methodField, message));
  return options.length > 0 ? options : noOptions;
}

function requireField(fields: Fields, index: number, what: string, hint = ''): number {
  if (index < fields.count) return index;
  const last = fields.count - 1;
  throw new LineError(`end-of-line before ${what}${hint}`, fields.token(last, fields.size(last) - 1));
}

function methodError(fields: Fields, methodField: number, message: string): LineError {
  return new LineError(message, fields.token(methodField, 0));
}

function checkRegexes(fields: Fields, f: number): void {
  for (let i = 0; i < fields.size(f); i++) if (fields.startsWith(f, i, '/')) checkRegex(fields.token(f, i));
}

function checkRegex(token: HbaToken): void {
  try {
    new RegExp(token.value.slice(1));
  } catch (error) {
    throw new LineError(`invalid regular expression "${token.value.slice(1)}": ${(error as Error).message}`, token);
  }
}

const keywordAddresses: Record<'all' | 'samehost' | 'samenet', HbaAddress> = {
  all: Object.freeze({ kind: 'all', text: 'all' }),
  samehost: Object.freeze({ kind: 'samehost', text: 'samehost' }),
  samenet: Object.freeze({ kind: 'samenet', text: 'samenet' }),
};

/**
 * The address field, and the netmask field after it when the address has no
 * /prefix. As parse_hba_line() reads it: the keywords are compared with
 * strcmp(), so a quoted "all", "samehost" or "samenet" is still the keyword
 * (only the database and user fields treat quotes as literal); anything else
 * is tried as a numeric address by getaddrinfo(AI_NUMERICHOST) (parseIPv4 for
 * glibc's IPv4 forms: "127.1/32" is 127.0.0.1/32), and only when that fails
 * is it a host name. `ip` and `netmask` are kept as the server prints them.
 */
function parseAddress(fields: Fields, f: number, maskField: number): HbaAddress {
  const value = fields.value(f, 0);
  if (value === 'all' || value === 'samehost' || value === 'samenet') return keywordAddresses[value];
  const slash = value.indexOf('/');
  const host = slash === -1 ? value : value.slice(0, slash);
  const numeric = numericAddress(host);
  if (numeric === undefined) {
    // getaddrinfo(AI_NUMERICHOST) fails with EAI_NONAME: PostgreSQL takes it as a host name.
    if (slash !== -1) throw new LineError(`specifying both host name and CIDR mask is invalid: "${value}"`, fields.token(f, 0));
    return { kind: 'hostname', text: value, hostname: host };
  }
  const { ip, family } = numeric;
  const maxPrefix = family === 4 ? 32 : 128;
  if (slash !== -1) {
    const prefix = strtolWhole(value, slash + 1);
    if (!(prefix >= 0 && prefix <= maxPrefix)) throw new LineError(`invalid CIDR mask in address "${value}"`, fields.token(f, 0));
    return { kind: 'ip', text: value, ip, family, prefix };
  }
  requireField(fields, maskField, 'netmask specification', ' (give an address range in CIDR notation, or a separate netmask)');
  if (fields.size(maskField) > 1) throw new LineError('multiple values specified for netmask', fields.token(maskField, 1));
  const maskText = fields.value(maskField, 0);
  const mask = numericAddress(maskText);
  if (mask === undefined) throw new LineError(`invalid IP mask "${maskText}"`, fields.token(maskField, 0));
  if (mask.family !== family) throw new LineError('IP address and mask do not match', fields.token(maskField, 0));
  // PostgreSQL accepts a non-contiguous mask; it simply compares bit by bit.
  const prefix = prefixOfMask(mask.ip) ?? -1;
  return { kind: 'ip', text: `${value} ${maskText}`, ip, family, prefix, netmask: mask.ip };
}

/** What getaddrinfo(AI_NUMERICHOST) makes of the text: IPv4 in glibc's forms (dotted back), or IPv6. */
function numericAddress(text: string): { ip: string; family: 4 | 6 } | undefined {
  if (isIPv4Text(text)) return { ip: text, family: 4 };
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { ip: ipv4Dotted(v4), family: 4 };
  return isIPv6(text) ? { ip: text, family: 6 } : undefined;
}

/**
 * The CIDR prefix as pg_sockaddr_cidr_mask() reads it: strtol(…, 10) that
 * must use up the whole text, so leading blanks and a sign are taken ("/+8",
 * "/-0", "/08" are valid; the caller checks the range). NaN otherwise.
 */
function strtolWhole(text: string, from: number): number {
  let i = from;
  while (i < text.length && isCSpace(text.charCodeAt(i))) i++;
  let sign = 1;
  if (text[i] === '+' || text[i] === '-') sign = text[i++] === '-' ? -1 : 1;
  if (i >= text.length) return NaN;
  for (let k = i; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c < 48 || c > 57) return NaN;
  }
  // + 0: "-0" is 0, not -0.
  return sign * Number(text.slice(i)) + 0;
}

/** C isspace() in the C locale. */
const isCSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

function checkOption(option: HbaOption, method: string, type: ConnectionType, syntax: HbaSyntax, token: () => HbaToken): void {
  const validFor = syntax.options[option.name];
  if (!validFor) throw new LineError(`unrecognized authentication option name: "${option.name}"`, token());
  if (option.name === 'clientcert' || option.name === 'clientname') {
    if (type !== 'hostssl') throw new LineError(`${option.name} can only be configured for "hostssl" rows`, token());
    if (option.name === 'clientname' && !['CN', 'DN'].includes(option.value)) throw new LineError(`invalid value for clientname: "${option.value}"`, token());
    if (option.name === 'clientcert') {
      if (!syntax.clientcertValues.has(option.value)) throw new LineError(`invalid value for clientcert: "${option.value}"`, token());
      if (method === 'cert' && option.value !== 'verify-full' && option.value !== '1') {
        throw new LineError('clientcert can only be set to "verify-full" when using "cert" authentication', token());
      }
    }
    return;
  }
  if (!validFor.includes(method)) {
    throw new LineError(`authentication option "${option.name}" is only valid for authentication methods ${validFor.join(', ')}`, token());
  }
}

function checkMandatoryOptions(method: string, options: HbaOption[], error: (message: string) => LineError): void {
  const has = (name: string) => options.some((o) => o.name === name);
  if (method === 'ldap') {
    const simpleBind = has('ldapprefix') || has('ldapsuffix');
    const searchBind = ['ldapbasedn', 'ldapbinddn', 'ldapbindpasswd', 'ldapsearchattribute', 'ldapsearchfilter'].some(has);
    if (simpleBind && searchBind) throw error('cannot mix options for simple bind and search+bind modes');
    if (!simpleBind && !has('ldapbasedn') && !has('ldapurl')) {
      throw error('authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set');
    }
    if (has('ldapsearchattribute') && has('ldapsearchfilter')) throw error('cannot use ldapsearchattribute together with ldapsearchfilter');
  }
  if (method === 'radius') {
    if (!has('radiusservers')) throw error('authentication method "radius" requires argument "radiusservers" to be set');
    if (!has('radiussecrets')) throw error('authentication method "radius" requires argument "radiussecrets" to be set');
  }
  if (method === 'oauth') {
    if (!has('scope')) throw error('authentication method "oauth" requires argument "scope" to be set');
    if (!has('issuer')) throw error('authentication method "oauth" requires argument "issuer" to be set');
  }
}
