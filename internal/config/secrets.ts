import { SECRET_PATHS } from './types';

/** What a secret is printed as, whatever its value or length. */
export const MASK = '***';

const HEADERS_PATHS = ['exporter.otlp.headers.', 'exporter.otlp.logs.headers.'];
// Header names that usually carry credentials: Authorization, X-API-Key, X-…-Secret, tokens.
const SECRET_HEADER_NAME = /auth|key|secret|token|password|cookie|credential/i;

/** Whether the value at a dot-separated key path must never be printed or logged. */
export function isSecretPath(path: string): boolean {
  if (SECRET_PATHS.includes(path)) return true;
  const headers = HEADERS_PATHS.find((prefix) => path.startsWith(prefix));
  return headers !== undefined && isSecretHeaderName(path.slice(headers.length));
}

export function isSecretHeaderName(name: string): boolean {
  return SECRET_HEADER_NAME.test(name);
}

// `user:password@` after a scheme's `//`, or at the start of a word (a host:port without a
// scheme); the password stops at the first `@`, `/` or blank.
const URL_PASSWORD = /(^|\/\/|\s)([^/@:\s]*):([^/@\s]+)@/g;
// A userinfo without a password after `//`: often a token (`https://TOKEN@host`).
const URL_TOKEN = /\/\/([^/@:\s]+)@/g;

/**
 * `scheme://user:password@host…` printed as `scheme://user:***@host…`, and
 * `scheme://token@host…` as `scheme://***@host…`; other text unchanged.
 */
export function maskUrlPassword(text: string): string {
  return text.includes('@') ? text.replace(URL_PASSWORD, `$1$2:${MASK}@`).replace(URL_TOKEN, `//${MASK}@`) : text;
}

/** The credentials of an http(s) URL's userinfo, and the URL without them; undefined when it has none. */
export function splitUrlCredentials(text: string): { url: string; username: string; password: string } | undefined {
  if (!/^https?:\/\//i.test(text.trim())) return undefined;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.username === '' && url.password === '') return undefined;
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  // URL adds a trailing `/` to a bare origin; the endpoint keeps the form it was written in.
  const bare = url.pathname === '/' && url.search === '' && !text.trim().endsWith('/') ? url.href.slice(0, -1) : url.href;
  return { url: bare, username, password };
}
