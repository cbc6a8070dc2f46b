import { SECRET_PATHS } from './types';

/** What a secret is printed as, whatever its value or length. */
export const MASK = '***';

const HEADERS_PATH = 'exporter.otlp.headers.';
// Header names that usually carry credentials: Authorization, X-API-Key, X-…-Secret, tokens.
const SECRET_HEADER_NAME = /auth|key|secret|token|password|cookie|credential/i;

/** Whether the value at a dot-separated key path must never be printed or logged. */
export function isSecretPath(path: string): boolean {
  if (SECRET_PATHS.includes(path)) return true;
  return path.startsWith(HEADERS_PATH) && isSecretHeaderName(path.slice(HEADERS_PATH.length));
}

export function isSecretHeaderName(name: string): boolean {
  return SECRET_HEADER_NAME.test(name);
}
