// collectd's types.db: which data sources, with which names and kinds, a value list of a type holds.
import type { ValueKind } from './protocol';
import { BUILTIN_TYPES_DB } from './types-db-builtin';

export interface DataSource {
  name: string;
  kind: ValueKind;
  /** NaN for `U`. */
  min: number;
  max: number;
}

export type TypesDb = Map<string, DataSource[]>;

export const SYSTEM_TYPES_DB = '/usr/share/collectd/types.db';

export class TypesDbError extends Error {
  constructor(readonly source: string, readonly line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'TypesDbError';
  }
}

const KINDS: Record<string, ValueKind> = { COUNTER: 'counter', GAUGE: 'gauge', DERIVE: 'derive', ABSOLUTE: 'absolute' };

function bound(text: string): number {
  return text === 'U' ? Number.NaN : Number(text);
}

/** Lines `type ds:KIND:min:max[, ds:KIND:min:max …]`; `#` starts a comment. A later file's type replaces an earlier one's. */
export function parseTypesDb(text: string, source = 'types.db', into: TypesDb = new Map()): TypesDb {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*/, '').trim();
    if (line === '') continue;
    const match = /^(\S+)\s+(.+)$/.exec(line);
    if (match === null) throw new TypesDbError(source, i + 1, `"${line}" names a type without data sources`);
    const sources: DataSource[] = [];
    for (const spec of match[2].split(/[\s,]+/)) {
      const fields = spec.trim().split(':');
      const kind = KINDS[fields[1]?.toUpperCase() ?? ''];
      if (fields.length !== 4 || fields[0] === '' || kind === undefined) {
        throw new TypesDbError(source, i + 1, `data source "${spec}" is not name:COUNTER|GAUGE|DERIVE|ABSOLUTE:min:max`);
      }
      sources.push({ name: fields[0], kind, min: bound(fields[2]), max: bound(fields[3]) });
    }
    into.set(match[1], sources);
  }
  return into;
}

/** The built-in table of the common types. */
export function builtinTypesDb(): TypesDb {
  return parseTypesDb(BUILTIN_TYPES_DB, 'built-in types.db');
}
