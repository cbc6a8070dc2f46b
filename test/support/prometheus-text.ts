/**
 * A small parser for the Prometheus text exposition format (version 0.0.4), enough to read
 * node_exporter: `# HELP`/`# TYPE` lines, samples with optional labels and timestamp, escaped
 * label values. A malformed line is counted and skipped.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Metric family name -> counter, gauge, untyped, … from `# TYPE`. */
  types: Map<string, string>;
  malformed: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(text: string): number {
  switch (text) {
    case '+Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
    default:
      return text.trim() === '' ? Number.NaN : Number(text);
  }
}

/** Parses `{a="x",b="y\"z"}` starting at `start` (the `{`); returns labels and the index after `}`. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const key = NAME.exec(line.slice(i));
    if (!key) return undefined;
    i += key[0].length;
    if (line[i] !== '=' || line[i + 1] !== '"') return undefined;
    i += 2;
    let value = '';
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else {
        value += line[i++];
      }
    }
    if (i >= line.length) return undefined;
    labels[key[0]] = value;
    i++;
  }
}

export function parseExposition(text: string): Exposition {
  const out: Exposition = { samples: [], types: new Map(), malformed: 0 };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (type) out.types.set(type[1], type[2]);
      continue;
    }
    const name = NAME.exec(line);
    if (!name) {
      out.malformed++;
      continue;
    }
    let rest = name[0].length;
    let labels: Record<string, string> = {};
    if (line[rest] === '{') {
      const parsed = parseLabels(line, rest);
      if (!parsed) {
        out.malformed++;
        continue;
      }
      labels = parsed.labels;
      rest = parsed.end;
    }
    const fields = line.slice(rest).trim().split(/\s+/);
    const value = parseValue(fields[0] ?? '');
    if (Number.isNaN(value) && fields[0] !== 'NaN') {
      out.malformed++;
      continue;
    }
    out.samples.push({ name: name[0], labels, value });
  }
  return out;
}

/** The samples named `name` whose labels include every pair in `match`. */
export function select(exposition: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
