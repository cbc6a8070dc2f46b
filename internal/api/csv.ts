// The daily CSV files of the local API as text: one RFC 4180 row per sample under a header line
// naming the columns. Pure: formatting and parsing only; csv-history.ts reads and writes files.
import { NUMERIC_FIELDS, SAMPLE_FIELDS, type Sample } from './sample';

export const CSV_HEADER = SAMPLE_FIELDS.join(',');
/** RFC 4180 ends lines with CRLF; readers here accept LF as well. */
export const CSV_EOL = '\r\n';

// A day's CSV file, its summary (csv-summary.ts), the summary of its rows so far while it is
// being written, and either summary being written.
const DAY_FILE = /^metrics-(\d{4}-\d{2}-\d{2})\.(?:csv|summary|summary\.tmp|partial|partial\.tmp)$/;
export const DAY_MS = 86_400_000;

/** `metrics-YYYY-MM-DD.csv` of the UTC day holding `ms`. */
export function dayFileName(ms: number): string {
  return `metrics-${new Date(ms).toISOString().slice(0, 10)}.csv`;
}

/** `metrics-YYYY-MM-DD.summary`: the summary of the day file `csvName`. */
export function summaryFileName(csvName: string): string {
  return csvName.replace(/\.csv$/, '.summary');
}

/** `metrics-YYYY-MM-DD.partial`: the summary of the day file `csvName`'s rows so far, while it is written. */
export function partialSummaryFileName(csvName: string): string {
  return csvName.replace(/\.csv$/, '.partial');
}

/** Midnight UTC (ms) of the day a file name holds (CSV or summary), or undefined when it is not a day file. */
export function dayOfFileName(name: string): number | undefined {
  const match = DAY_FILE.exec(name);
  if (match === null) return undefined;
  const ms = Date.parse(`${match[1]}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Day files (CSV and summaries) that retention removes at `nowMs`: whole days that ended more than `retentionDays` ago. */
export function expiredDayFiles(names: readonly string[], nowMs: number, retentionDays: number): string[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const oldestKept = today - retentionDays * DAY_MS;
  return names.filter((name) => {
    const day = dayOfFileName(name);
    return day !== undefined && day < oldestKept;
  });
}

function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row of `fields` (a sample's by default), line end included; null is an empty field. */
export function formatRow(record: Sample | Record<string, unknown>, fields: readonly string[] = SAMPLE_FIELDS): string {
  let line = '';
  for (let i = 0; i < fields.length; i += 1) {
    const field = fields[i]!;
    const value = (record as Record<string, unknown>)[field];
    if (i > 0) line += ',';
    if (field === 'ts_unix') line += (value as number).toFixed(3);
    else if (Array.isArray(value)) line += quote(JSON.stringify(value));
    else if (typeof value === 'string') line += quote(value);
    else if (value !== null && value !== undefined) line += String(value);
  }
  return line + CSV_EOL;
}

/** The values of one row, as the scanner hands them on (reused from row to row: copy what you keep). */
export interface RowView {
  /** ts_unix, then NUMERIC_FIELDS in their order; NaN where the row has no value. */
  readonly values: Float64Array;
  readonly cores: number[];
  /** Where the row starts in the bytes scanned, and the byte after its line end. */
  readonly start: number;
  readonly end: number;
  /** The host field's text; empty when the row has none. */
  host(): string;
}

export interface ScanOptions {
  /** The header line in effect before the first byte (a scan from the middle of a file). */
  columns?: string;
  /** Where the bytes start in their file: row and header offsets are the file's. */
  offset?: number;
  /** Each header line met, with the offset it starts at. */
  onHeader?: (line: string, offset: number) => void;
}

// What a column holds, when it is not a number's slot in RowView.values (0 and up).
const SKIP = -1;
const CORES = -2;
const HOST = -3;

/**
 * What each column of a header line holds: a slot of RowView.values, SKIP, CORES or HOST.
 * Undefined when the line is not a header this reader knows (no ts_unix).
 */
export function parseHeader(line: string): Int16Array | undefined {
  const names = line.split(',').map((name) => name.trim());
  if (!names.includes('ts_unix')) return undefined;
  return Int16Array.from(names, (name) => {
    if (name === 'ts_unix') return 0;
    if (name === 'cpu_per_core') return CORES;
    if (name === 'host') return HOST;
    const slot = (NUMERIC_FIELDS as readonly string[]).indexOf(name);
    return slot === -1 ? SKIP : slot + 1;
  });
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

function text(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

/** Number() of the field, for what decimal() does not read itself (exponents, Infinity). */
function unusualNumber(bytes: Uint8Array, start: number, end: number): number {
  const value = Number(text(bytes, start, end));
  return Number.isFinite(value) ? value : NaN;
}

/** A decimal number (`-12.5`, `1796293590.926`) between start and end; NaN when empty or not a number. */
function decimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = bytes[i] === 45;
  if (negative) i += 1;
  let whole = 0;
  let fraction = 0;
  let scale = 1;
  let c = 0;
  for (; i < end; i += 1) {
    c = bytes[i]!;
    if (c < 48 || c > 57) break;
    whole = whole * 10 + (c - 48);
  }
  if (i < end && c === 46) {
    for (i += 1; i < end; i += 1) {
      c = bytes[i]!;
      if (c < 48 || c > 57) break;
      fraction = fraction * 10 + (c - 48);
      scale *= 10;
    }
  }
  if (i < end) return unusualNumber(bytes, start, end);
  if (end - start === (negative ? 1 : 0)) return NaN;
  const value = whole + fraction / scale;
  return negative ? -value : value;
}

/** `[1.5,2]` between start and end into `out`; false when it is not a list of numbers. */
function coreList(bytes: Uint8Array, start: number, end: number, out: number[]): boolean {
  if (bytes[start] !== 91 || bytes[end - 1] !== 93) return false;
  let from = start + 1;
  for (let i = from; i < end; i += 1) {
    if (bytes[i] === COMMA || i === end - 1) {
      if (i > from) {
        const value = decimal(bytes, from, i);
        if (Number.isNaN(value)) return false;
        out.push(value);
      }
      from = i + 1;
    }
  }
  return true;
}

/**
 * Every whole row of a file's bytes, in file order, handed to `onRow`. A header line (the first,
 * or any later one: a file continued by another version) sets the columns for the rows after it;
 * a header without ts_unix is a layout this reader does not know, and its rows are skipped until
 * a known header comes. Rows are skipped when torn (a crash mid-write: an unclosed quote, too few
 * fields, no line end yet) or without a timestamp. Returns how many rows were skipped.
 *
 * It reads bytes rather than text and parses numbers in place: seven days of one-second samples
 * are 600,000 rows, and a step query over them must answer in a fraction of a second.
 */
export function scanCsv(bytes: Uint8Array, onRow: (row: RowView) => void, options: ScanOptions = {}): number {
  const slots = NUMERIC_FIELDS.length + 1;
  const values = new Float64Array(slots);
  const cores: number[] = [];
  let hostStart = 0;
  let hostEnd = 0;
  let hostQuoted = false;
  const row = {
    values,
    cores,
    start: 0,
    end: 0,
    host: () => (hostQuoted ? text(bytes, hostStart, hostEnd).replace(/""/g, '"') : text(bytes, hostStart, hostEnd)),
  };
  let roles = options.columns === undefined ? undefined : parseHeader(options.columns);
  const base = options.offset ?? 0;
  let skipped = 0;
  let at = 0;
  const length = bytes.length;
  while (at < length) {
    const lineStart = at;
    const first = bytes[at]!;
    if (first === LF || first === CR) {
      at += 1;
      continue;
    }
    if (isLetter(first)) {
      const lineEnd = bytes.indexOf(LF, at);
      const end = lineEnd === -1 ? length : lineEnd;
      const line = text(bytes, lineStart, end > at && bytes[end - 1] === CR ? end - 1 : end);
      roles = parseHeader(line);
      options.onHeader?.(line, base + lineStart);
      at = end + 1;
      continue;
    }
    for (let slot = 0; slot < slots; slot += 1) values[slot] = NaN;
    cores.length = 0;
    hostStart = hostEnd = 0;
    hostQuoted = false;
    let field = 0;
    let whole = roles !== undefined;
    // One field per turn; `at` ends on the byte after it: a comma, CR, LF, or the end of the bytes.
    for (;;) {
      let start = at;
      let end = at;
      let quoted = false;
      if (bytes[at] === QUOTE) {
        // Closed by a quote not doubled; a row torn inside a quoted field has none before its line end.
        quoted = true;
        start = at + 1;
        end = start;
        while (end < length && bytes[end] !== LF && (bytes[end] !== QUOTE || bytes[end + 1] === QUOTE)) end += bytes[end] === QUOTE ? 2 : 1;
        if (end >= length || bytes[end] === LF) {
          whole = false;
          at = end;
          break;
        }
        at = end + 1;
      }
      const role = whole && field < roles!.length ? roles![field]! : SKIP;
      if (quoted) {
        if (role === CORES) {
          if (end > start && !coreList(bytes, start, end, cores)) whole = false;
        } else if (role === HOST) {
          hostStart = start;
          hostEnd = end;
          hostQuoted = true;
        } else if (role >= 0) values[role] = decimal(bytes, start, end);
      } else if (role >= 0) {
        // The number is read in the same pass that finds the field's end: most fields are numbers.
        let c = bytes[end]!;
        const negative = c === 45;
        if (negative) c = bytes[++end]!;
        let whole10 = 0;
        let fraction = 0;
        let scale = 1;
        while (c >= 48 && c <= 57) {
          whole10 = whole10 * 10 + (c - 48);
          c = bytes[++end]!;
        }
        if (c === 46) {
          c = bytes[++end]!;
          while (c >= 48 && c <= 57) {
            fraction = fraction * 10 + (c - 48);
            scale *= 10;
            c = bytes[++end]!;
          }
        }
        if (end >= length || c === COMMA || c === LF || c === CR) {
          const value = whole10 + fraction / scale;
          values[role] = end - start === (negative ? 1 : 0) ? NaN : negative ? -value : value;
        } else {
          while (end < length && c !== COMMA && c !== LF && c !== CR) c = bytes[++end]!;
          values[role] = unusualNumber(bytes, start, end);
        }
        at = end;
      } else {
        let c = bytes[end];
        while (end < length && c !== COMMA && c !== LF && c !== CR) c = bytes[++end];
        at = end;
        if (role === HOST) {
          hostStart = start;
          hostEnd = end;
          hostQuoted = false;
        }
      }
      field += 1;
      if (bytes[at] !== COMMA) break;
      at += 1;
    }
    // The line's end: CRLF or LF; anything else (a stray byte after a quote, no end yet) is a torn row.
    if (bytes[at] === CR) at += 1;
    if (bytes[at] !== LF) {
      whole = false;
      const lineEnd = bytes.indexOf(LF, at);
      at = lineEnd === -1 ? length : lineEnd;
    }
    at += 1;
    if (!whole || field !== roles!.length || Number.isNaN(values[0])) {
      skipped += 1;
      continue;
    }
    row.start = base + lineStart;
    row.end = base + at;
    onRow(row);
  }
  return skipped;
}

/** A sample of its own from a scanned row. */
export function sampleOfRow(row: RowView): Sample {
  const ts = row.values[0]!;
  const sample = { ts_unix: ts, ts_iso: new Date(ts * 1000).toISOString(), host: row.host(), cpu_per_core: row.cores.slice() } as Sample;
  NUMERIC_FIELDS.forEach((field, i) => {
    const value = row.values[i + 1]!;
    (sample as unknown as Record<string, number | null>)[field] = Number.isNaN(value) ? null : value;
  });
  return sample;
}
