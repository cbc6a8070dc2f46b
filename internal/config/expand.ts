// Placeholder expansion in configuration values: ${VAR}, ${VAR:-default}, ${VAR:?message}, and
// $$ for a literal dollar. It runs on the parsed YAML tree, value by value, so that an expanded
// secret can never appear in a YAML syntax error, and every problem names its key path.

import type { ConfigProblem } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Expansion {
  text: string;
  problems: string[];
}

// What placeholders may expand a whole configuration to: a file is at most 1 MiB, and a few
// placeholders holding certificates or keys stay far below this; a `${BIG}` repeated thousands of
// times would otherwise take gigabytes (the environment's "billion laughs").
export const MAX_EXPANDED_CHARS = 16 * 1024 * 1024;

/**
 * Expands the placeholders in one string; problems are messages without the key path. Stops with
 * a problem once the text grows past `room` characters.
 */
export function expandString(text: string, env: Env, room = MAX_EXPANDED_CHARS): Expansion {
  const problems: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (out.length > room) break;
    const dollar = text.indexOf('$', i);
    if (dollar === -1 || dollar === text.length - 1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close === -1) {
      problems.push(`unterminated placeholder "\${" (write "$$" for a literal "$")`);
      out += text.slice(dollar);
      break;
    }
    out += substitute(text.slice(dollar + 2, close), env, problems);
    i = close + 1;
  }
  if (out.length > room) problems.push(`placeholders expand the configuration past ${MAX_EXPANDED_CHARS} characters`);
  return { text: out, problems };
}

/** The value of one `${…}` body: `NAME`, `NAME:-default` or `NAME:?message`. */
function substitute(body: string, env: Env, problems: string[]): string {
  const operator = /:[-?]/.exec(body);
  const name = operator === null ? body : body.slice(0, operator.index);
  if (!VARIABLE_NAME.test(name)) {
    problems.push(`placeholder "\${${name}}" does not name an environment variable`);
    return '';
  }
  const value = env[name];
  const isSet = value !== undefined && value !== '';
  if (operator === null) return value ?? '';
  const argument = body.slice(operator.index + 2);
  if (operator[0] === ':-') return isSet ? value : argument;
  if (!isSet) problems.push(`environment variable ${name} is required: ${argument || 'not set'}`);
  return value ?? '';
}

/**
 * A copy of a parsed YAML tree with every string value expanded. Keys are left alone. Problems
 * carry the key path and no value: the value is what failed to expand.
 */
export function expandTree(tree: unknown, env: Env, path = ''): { tree: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let room = MAX_EXPANDED_CHARS;
  const walk = (node: unknown, at: string): unknown => {
    if (typeof node === 'string') {
      // Past the bound the load fails with that problem; the rest is left as written.
      if (room < 0) return node;
      const expansion = expandString(node, env, room);
      for (const message of expansion.problems) problems.push({ path: at || '(root)', message });
      room -= expansion.text.length;
      return expansion.text;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, `${at}[${index}]`));
    if (node !== null && typeof node === 'object') {
      const copy: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) copy[key] = walk(value, at ? `${at}.${key}` : key);
      return copy;
    }
    return node;
  };
  return { tree: walk(tree, path), problems };
}
