import type { ConfigProblem } from '../config/errors';
import type { AgentConfig } from '../config/types';

/** A config value that is neither a usable name nor a valid `/regex/`. */
export class PatternError extends Error {
  constructor(readonly key: string, readonly pattern: string, readonly reason: string) {
    super(`${key}: ${JSON.stringify(pattern)} is not a valid pattern (expected a name or /regex/): ${reason}`);
    this.name = 'PatternError';
  }
}

/** How a list entry is read: `names` takes `/…/` as a regex and anything else literally. */
export type PatternSyntax = 'names' | 'regex';

type Test = (value: string) => boolean;

function compile(key: string, pattern: string, syntax: PatternSyntax): Test {
  const isSlashed = pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/');
  if (syntax === 'names' && !isSlashed) return (value) => value === pattern;
  const source = syntax === 'names' ? pattern.slice(1, -1) : pattern;
  try {
    const re = new RegExp(source);
    return (value) => re.test(value);
  } catch (err) {
    throw new PatternError(key, pattern, (err as Error).message);
  }
}

/**
 * A list of patterns compiled once. With `names` syntax an entry is an exact name, or a regular
 * expression when written `/like this/`; with `regex` syntax every entry is a regular expression
 * (mount point lists, whose entries are paths that start with a slash).
 */
export class PatternList {
  private readonly tests: Test[];

  constructor(key: string, patterns: readonly string[], syntax: PatternSyntax = 'names') {
    this.tests = patterns.map((p) => compile(key, p, syntax));
  }

  get empty(): boolean {
    return this.tests.length === 0;
  }

  /** Whether any of `values` matches any pattern. */
  matches(...values: string[]): boolean {
    return this.tests.some((test) => values.some((value) => test(value)));
  }
}

/** Include/exclude lists: a value passes when included (or the include list is empty) and not excluded. */
export class NameFilter {
  constructor(private readonly include: PatternList, private readonly exclude: PatternList) {}

  /** The filter of a `{include, exclude}` config section at dotted path `key`. */
  static of(key: string, lists: { include: readonly string[]; exclude: readonly string[] }): NameFilter {
    return new NameFilter(new PatternList(`${key}.include`, lists.include), new PatternList(`${key}.exclude`, lists.exclude));
  }

  /** Whether any of the names a thing goes by is included, and none is excluded. */
  accepts(...values: string[]): boolean {
    return (this.include.empty || this.include.matches(...values)) && !this.exclude.matches(...values);
  }
}

/**
 * Every pattern list of the collectors' config that does not compile, for the config loader to
 * report at load time (the collectors would otherwise refuse to start).
 */
export function patternProblems(config: AgentConfig): ConfigProblem[] {
  const system = config.collectors.system;
  const fs = system.filesystem_options;
  const lists: Array<[string, readonly string[], PatternSyntax]> = [
    ['collectors.system.disk_options.include', system.disk_options.include, 'names'],
    ['collectors.system.disk_options.exclude', system.disk_options.exclude, 'names'],
    ['collectors.system.network_options.include', system.network_options.include, 'names'],
    ['collectors.system.network_options.exclude', system.network_options.exclude, 'names'],
    ['collectors.system.filesystem_options.include_types', fs.include_types, 'names'],
    ['collectors.system.filesystem_options.exclude_types', fs.exclude_types, 'names'],
    ['collectors.system.filesystem_options.include_devices', fs.include_devices, 'names'],
    ['collectors.system.filesystem_options.exclude_devices', fs.exclude_devices, 'names'],
    ['collectors.system.filesystem_options.include_mountpoints', fs.include_mountpoints, 'regex'],
    ['collectors.system.filesystem_options.exclude_mountpoints', fs.exclude_mountpoints, 'regex'],
    ['collectors.process.processes', config.collectors.process.processes, 'names'],
  ];
  const problems: ConfigProblem[] = [];
  for (const [key, patterns, syntax] of lists) {
    patterns.forEach((pattern, i) => {
      try {
        compile(key, pattern, syntax);
      } catch (err) {
        problems.push({ path: `${key}.${i}`, value: pattern, message: `is not a valid ${syntax === 'regex' ? 'regular expression' : 'name or /regex/'}: ${(err as PatternError).reason}` });
      }
    });
  }
  return problems;
}
