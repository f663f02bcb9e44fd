/**
 * libpq connection strings, both forms: `host=db port=5433 user='a b'` and
 * `postgresql://user:pw@host:port/db?sslmode=require`. Pure.
 * (PostgreSQL docs, "Connection Strings", 34.1.1.)
 */
import { UsageError } from '../errors.js';

export type ConninfoParams = Record<string, string>;

export function looksLikeConninfo(value: string): boolean {
  return value.includes('=') || /^postgres(ql)?:\/\//.test(value);
}

export function parseConninfo(text: string): ConninfoParams {
  return /^postgres(ql)?:\/\//.test(text) ? parseUri(text) : parseKeywordValue(text);
}

function parseKeywordValue(text: string): ConninfoParams {
  const params: ConninfoParams = {};
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) return params;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (!key || text[i] !== '=') {
      throw new UsageError(`invalid connection string near "${text.slice(keyStart, keyStart + 20)}": expected keyword=value`);
    }
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      if (i >= text.length) throw new UsageError(`invalid connection string: unterminated quoted value for "${key}"`);
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i])) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
    }
    params[key] = value;
  }
}

function parseUri(text: string): ConninfoParams {
  let url: URL;
  // URL only knows host syntax for special schemes, so borrow http's; an empty
  // authority (postgresql:///db, "use the socket") needs a placeholder host.
  const noHost = /^postgres(ql)?:\/\/(?=[/?#]|$)/.test(text);
  try {
    url = new URL(text.replace(/^postgres(ql)?:\/\//, noHost ? 'http://placeholder.invalid' : 'http://'));
  } catch (cause) {
    throw new UsageError(`invalid connection URI "${text}"`, { cause });
  }
  const params: ConninfoParams = {};
  if (url.hostname && !noHost) params.host = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (url.port) params.port = url.port;
  if (url.username) params.user = decodeURIComponent(url.username);
  if (url.password) params.password = decodeURIComponent(url.password);
  const path = url.pathname.replace(/^\//, '');
  if (path) params.dbname = decodeURIComponent(path);
  for (const [key, value] of url.searchParams) params[key] = value;
  return params;
}
