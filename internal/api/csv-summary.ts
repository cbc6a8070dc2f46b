// A day file's summary: its rows added up in SUMMARY_SLOT_SECONDS slots, written beside the file
// once the day is over, so that a step query over past days reads a few hundred kilobytes per day
// instead of parsing 86,400 rows. Pure: building, encoding and decoding; csv-history.ts keeps the
// files. The layout is documented in docs/API.md ("Daily summaries").
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { scanCsv } from './csv';
import { SlotRecords, SlotTable, SUMMARY_SLOT_SECONDS } from './range';
import { NUMERIC_FIELDS } from './sample';

export const SUMMARY_FORMAT = 'tfo-agent-csv-summary';
export const SUMMARY_VERSION = 1;
const HASH_BYTES = 32;

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
  slots: SlotRecords;
  /**
   * Of a file still being written (summarised as far as its last whole line): its last bytes
   * summarised, base64, to know it is the same file when going on from the summary.
   */
  tail?: string;
}

/** A summary that cannot be used, and why. */
export class SummaryError extends Error {}

/**
 * A day file's rows in slots, read a part at a time: the file being written is read on from where
 * the last range stopped, so that its rows are parsed once, not on every range.
 */
export class GrowingSummary {
  readonly table: SlotTable;
  readonly headers: HeaderLine[] = [];
  /** Bytes read: up to the last line end seen (a row still being written is read next time). */
  scanned = 0;

  /** `table`: one a summary already written was built in, cleared, to be used again. */
  constructor(table = new SlotTable(SUMMARY_SLOT_SECONDS)) {
    this.table = table;
  }

  /** Goes on from `summary`, of the same file's first csvBytes bytes (whole lines). */
  static resuming(summary: CsvSummary, table?: SlotTable): GrowingSummary {
    const growing = new GrowingSummary(table);
    growing.table.restore(summary.slots);
    growing.headers.push(...summary.headers);
    growing.scanned = summary.csvBytes;
    return growing;
  }

  /** Adds the bytes that follow the ones scanned; returns how many it took. */
  extend(bytes: Uint8Array): number {
    const lineEnd = bytes.lastIndexOf(0x0a);
    if (lineEnd === -1) return 0;
    scanCsv(bytes.subarray(0, lineEnd + 1), (row) => this.table.add(row), {
      columns: this.headers.at(-1)?.line,
      offset: this.scanned,
      onHeader: (line, offset) => this.headers.push({ offset, line }),
    });
    this.scanned += lineEnd + 1;
    return lineEnd + 1;
  }

  /** The slots as far as read: a view of the table's (see SlotTable.records). */
  summary(csvMtimeMs: number): CsvSummary {
    return { csvBytes: this.scanned, csvMtimeMs, headers: this.headers, slots: this.table.records() };
  }
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
  csv_tail?: string;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** A JSON line, the slot records as little-endian float64s, then the SHA-256 of all that. */
export function encodeSummary(summary: CsvSummary): Buffer {
  return Buffer.concat(summaryParts(summary));
}

/**
 * encodeSummary's bytes in three parts, the records' part without a copy on little-endian hosts:
 * written as they are, a day's summary costs no second buffer of its size.
 */
export function summaryParts(summary: CsvSummary): [Buffer, Buffer, Buffer] {
  const { slots } = summary;
  const head: SummaryHead = {
    format: SUMMARY_FORMAT, version: SUMMARY_VERSION, slot_seconds: SUMMARY_SLOT_SECONDS,
    csv_bytes: summary.csvBytes, csv_mtime_ms: summary.csvMtimeMs, fields: [...NUMERIC_FIELDS], cores: slots.cores,
    slots: slots.count, hosts: [...slots.hosts], headers: summary.headers.map((h) => [h.offset, h.line]), csv_tail: summary.tail,
  };
  // Padded so that the records start on a multiple of 8 bytes: read back without a copy.
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  const headBytes = Buffer.concat([json, Buffer.from(' '.repeat(7 - (json.length % 8)) + '\n')]);
  let body: Buffer;
  if (LITTLE_ENDIAN) body = Buffer.from(slots.values.buffer, slots.values.byteOffset, slots.values.byteLength);
  else {
    body = Buffer.alloc(slots.values.byteLength);
    slots.values.forEach((value, i) => body.writeDoubleLE(value, i * 8));
  }
  return [headBytes, body, createHash('sha256').update(headBytes).update(body).digest()];
}

/** Little-endian float64s as numbers: the bytes themselves when aligned, else one copy. */
function float64s(bytes: Buffer): Float64Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
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
  if (head.fields.join(',') !== NUMERIC_FIELDS.join(',')) throw new SummaryError("fields differ from this version's");
  const body = content.subarray(lineEnd + 1);
  const slots = new SlotRecords(float64s(body.subarray(0, body.length - (body.length % 8))), head.cores, head.hosts);
  if (body.length % 8 !== 0 || slots.count !== head.slots) throw new SummaryError(`${body.length} bytes of slots, expected ${head.slots} of ${slots.width} float64s`);
  for (let i = 0; i < slots.count; i += 1) if (slots.host(i) === undefined) throw new SummaryError(`slot ${i}: no such host`);
  const summary: CsvSummary = { csvBytes: head.csv_bytes, csvMtimeMs: head.csv_mtime_ms, headers: head.headers.map(([offset, line]) => ({ offset, line })), slots };
  if (typeof head.csv_tail === 'string') summary.tail = head.csv_tail;
  return summary;
}
