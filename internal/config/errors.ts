// Typed errors and warnings of the configuration loader. A problem names the key path, the value
// and what was expected; a ConfigError carries every problem found, never just the first.

import { maskUrlPassword } from './secrets';

export interface ConfigProblem {
  /** Dot-separated key path in the YAML layout (`collectors.system.interval`), or the file. */
  path: string;
  /** The offending value, already masked when the key holds a secret. */
  value?: unknown;
  message: string;
  /** Line in the config file of the key, when the value came from the file. */
  line?: number;
}

export interface ConfigWarning {
  path: string;
  message: string;
  line?: number;
}

function lineSuffix(line: number | undefined): string {
  return line === undefined ? '' : ` (line ${line})`;
}

// A value is quoted up to this many characters: a runaway one (a file pasted into a key) is named,
// not printed whole.
const MAX_QUOTED_CHARS = 200;

function quoted(value: unknown): string {
  // An endpoint's value may be a URL with a password in it: masked before it is cut.
  const text = maskUrlPassword(JSON.stringify(value));
  return text.length <= MAX_QUOTED_CHARS ? text : `${text.slice(0, MAX_QUOTED_CHARS)}… (${text.length} characters)`;
}

function formatProblem(problem: ConfigProblem): string {
  const value = problem.value === undefined ? '' : ` ${quoted(problem.value)}`;
  return `${problem.path}:${value} ${problem.message}${lineSuffix(problem.line)}`;
}

// Problems listed one by one; past these the rest are counted, so that a file of thousands of bad
// values gives a screen, not thousands of lines (and a reload log line stays one line).
export const MAX_LISTED_PROBLEMS = 50;

export class ConfigError extends Error {
  /** At most MAX_LISTED_PROBLEMS, then one that counts the rest. */
  readonly problems: ConfigProblem[];

  /** Warnings found before the load failed (unknown keys often explain a problem). */
  constructor(problems: ConfigProblem[], readonly file?: string, readonly warnings: ConfigWarning[] = []) {
    const where = file === undefined ? 'configuration' : `configuration ${file}`;
    const noun = problems.length === 1 ? 'problem' : 'problems';
    const more = problems.length - MAX_LISTED_PROBLEMS;
    const listed = more > 0 ? [...problems.slice(0, MAX_LISTED_PROBLEMS), { path: file ?? 'configuration', message: `${more} more problems, not listed` }] : problems;
    super(`${where}: ${problems.length} ${noun}\n` + listed.map((p) => `  - ${formatProblem(p)}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = listed;
  }
}

/** One line per warning, as `config validate` and the start-up log print them. */
export function formatWarning(warning: ConfigWarning): string {
  return `${warning.path}: ${warning.message}${lineSuffix(warning.line)}`;
}
