// A day file's summary: its rows added up in SUMMARY_SLOT_SECONDS slots, written beside the file
// once the day is over, so that a step query over past days reads a few hundred kilobytes per day
// instead of parsing 86,400 rows. Pure: building, encoding and decoding; csv-history.ts keeps the
// files. The layout is documented in docs/API.md ("Daily summaries").
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { scanCsv } from './csv';
import { Slot, SlotTable, SUMMARY_SLOT_SECONDS } from './range';
import { NUMERIC_FIELDS } from './sample';

export const SUMMARY_FORMAT = 'tfo-agent-csv-summary';
export const SUMMARY_VERSION = 1;
const HASH_BYTES = 32;
/** start, rows, host, cpu_total_max, min_ts, max_ts, first_byte, end_byte */
const FIXED_VALUES = 8;

export interface HeaderLine {
  offset: number;
  line: string;
}

export interface CsvSummary {
  /** Size and modification time of the CSV file summarised: a file changed since is summarised again. */
  csvBytes: number;
  csvMtimeMs: number;
  /** The file's header lines: a scan from the middle of the file starts under the one in effect there. */
  headers: HeaderLine[];
  /** In time order, one per slot holding rows. */
  slots: Slot[];
}

/** A summary that cannot be used, and why. */
export class SummaryError extends Error {}

/** The summary of a day file's bytes. */
export function summarizeCsv(bytes: Uint8Array, csvMtimeMs: number): CsvSummary {
  const table = new SlotTable(SUMMARY_SLOT_SECONDS);
  const headers: HeaderLine[] = [];
  scanCsv(bytes, (row) => table.add(row), { onHeader: (line, offset) => headers.push({ offset, line }) });
  return { csvBytes: bytes.length, csvMtimeMs, headers, slots: table.slots.slice().sort((a, b) => a.start - b.start) };
}

/** The header line in effect at `offset` of the file, if any. */
export function columnsAt(summary: CsvSummary, offset: number): string | undefined {
  let columns: string | undefined;
  for (const header of summary.headers) {
    if (header.offset >= offset) break;
    columns = header.line;
  }
  return columns;
}

interface SummaryHead {
  format: string;
  version: number;
  slot_seconds: number;
  csv_bytes: number;
  csv_mtime_ms: number;
  fields: string[];
  cores: number;
  slots: number;
  hosts: string[];
  headers: Array<[number, string]>;
}

/** A JSON line, the slots as little-endian float64 records, then the SHA-256 of all that. */
export function encodeSummary(summary: CsvSummary): Buffer {
  const hosts: string[] = [];
  const hostIndex = new Map<string, number>();
  for (const slot of summary.slots) {
    if (!hostIndex.has(slot.host)) {
      hostIndex.set(slot.host, hosts.length);
      hosts.push(slot.host);
    }
  }
  const cores = Math.max(0, ...summary.slots.map((slot) => slot.coreSums.length));
  const head: SummaryHead = {
    format: SUMMARY_FORMAT, version: SUMMARY_VERSION, slot_seconds: SUMMARY_SLOT_SECONDS,
    csv_bytes: summary.csvBytes, csv_mtime_ms: summary.csvMtimeMs, fields: [...NUMERIC_FIELDS], cores,
    slots: summary.slots.length, hosts, headers: summary.headers.map((h) => [h.offset, h.line]),
  };
  const headBytes = Buffer.from(JSON.stringify(head) + '\n', 'utf8');
  const fields = NUMERIC_FIELDS.length;
  const record = (FIXED_VALUES + 2 * fields + 2 * cores) * 8;
  const body = Buffer.alloc(summary.slots.length * record);
  let at = 0;
  const put = (value: number): void => {
    at = body.writeDoubleLE(value, at);
  };
  for (const slot of summary.slots) {
    for (const value of [slot.start, slot.rows, hostIndex.get(slot.host)!, slot.cpuMax, slot.minTs, slot.maxTs, slot.firstByte, slot.endByte]) put(value);
    for (let i = 0; i < fields; i += 1) put(slot.sums[i]!);
    for (let i = 0; i < fields; i += 1) put(slot.counts[i]!);
    for (let core = 0; core < cores; core += 1) put(slot.coreSums[core] ?? 0);
    for (let core = 0; core < cores; core += 1) put(slot.coreCounts[core] ?? 0);
  }
  const hash = createHash('sha256').update(headBytes).update(body).digest();
  return Buffer.concat([headBytes, body, hash]);
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Little-endian float64s as numbers: one copy into an aligned array, rather than one call per value. */
function float64s(bytes: Buffer): Float64Array {
  const values = new Float64Array(bytes.length / 8);
  if (LITTLE_ENDIAN) new Uint8Array(values.buffer).set(bytes);
  else for (let i = 0; i < values.length; i += 1) values[i] = bytes.readDoubleLE(i * 8);
  return values;
}

/** The summary in `bytes`; throws SummaryError saying why when they are not one this version wrote whole. */
export function decodeSummary(bytes: Buffer): CsvSummary {
  if (bytes.length < HASH_BYTES + 2) throw new SummaryError(`${bytes.length} bytes: truncated`);
  const content = bytes.subarray(0, bytes.length - HASH_BYTES);
  if (!createHash('sha256').update(content).digest().equals(bytes.subarray(bytes.length - HASH_BYTES))) throw new SummaryError('checksum mismatch: truncated or corrupt');
  const lineEnd = content.indexOf(0x0a);
  if (lineEnd === -1) throw new SummaryError('no header line');
  let head: SummaryHead;
  try {
    head = JSON.parse(content.subarray(0, lineEnd).toString('utf8')) as SummaryHead;
  } catch {
    throw new SummaryError('header line is not JSON');
  }
  if (head.format !== SUMMARY_FORMAT || head.version !== SUMMARY_VERSION) throw new SummaryError(`format ${String(head.format)} version ${String(head.version)}, expected ${SUMMARY_FORMAT} version ${SUMMARY_VERSION}`);
  if (head.slot_seconds !== SUMMARY_SLOT_SECONDS) throw new SummaryError(`slot_seconds ${head.slot_seconds}, expected ${SUMMARY_SLOT_SECONDS}`);
  if (head.fields.join(',') !== NUMERIC_FIELDS.join(',')) throw new SummaryError('fields differ from this version\'s');
  const fields = NUMERIC_FIELDS.length;
  const record = (FIXED_VALUES + 2 * fields + 2 * head.cores) * 8;
  const body = content.subarray(lineEnd + 1);
  if (body.length !== head.slots * record) throw new SummaryError(`${body.length} bytes of slots, expected ${head.slots} × ${record}`);
  const values = float64s(body);
  let at = 0;
  const get = (): number => values[at++]!;
  const slots: Slot[] = [];
  for (let n = 0; n < head.slots; n += 1) {
    const slot = new Slot(get());
    slot.rows = get();
    const host = head.hosts[get()];
    if (host === undefined) throw new SummaryError(`slot ${n}: no such host`);
    slot.host = host;
    slot.cpuMax = get();
    slot.minTs = get();
    slot.maxTs = get();
    slot.firstByte = get();
    slot.endByte = get();
    for (let i = 0; i < fields; i += 1) slot.sums[i] = get();
    for (let i = 0; i < fields; i += 1) slot.counts[i] = get();
    const coreSums = Array.from({ length: head.cores }, get);
    const coreCounts = Array.from({ length: head.cores }, get);
    // A slot had as many CPUs as its widest row: the trailing ones no row of it had are dropped.
    let width = head.cores;
    while (width > 0 && coreCounts[width - 1] === 0) width -= 1;
    slot.coreSums = coreSums.slice(0, width);
    slot.coreCounts = coreCounts.slice(0, width);
    slots.push(slot);
  }
  return { csvBytes: head.csv_bytes, csvMtimeMs: head.csv_mtime_ms, headers: head.headers.map(([offset, line]) => ({ offset, line })), slots };
}
