// /metrics/range: which samples a query asks for, and their grouping into step buckets. Pure.
import type { RowView } from './csv';
import { NUMERIC_FIELDS, SAMPLE_FIELDS, type Sample, type SampleField } from './sample';

export interface RangeQuery {
  /** Seconds since the epoch, inclusive. */
  from: number;
  to: number;
  /** Bucket width in seconds; undefined: every sample. */
  step?: number;
}

export interface ParameterError {
  parameter: string;
  message: string;
}

export const DEFAULT_RANGE_SECONDS = 10;

/** Unix seconds (`1764756000`, `1764756000.5`) or ISO 8601 (`2026-12-03T10:00:00Z`). */
export function parseInstant(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/**
 * The query of `params` at `now` (seconds): `seconds=N` (default 10) or `from`/`to`, and `step`.
 * Ranges reach back at most `maxSeconds` (the retention period).
 */
export function parseRangeQuery(params: URLSearchParams, now: number, maxSeconds: number): RangeQuery | ParameterError {
  const fromText = params.get('from');
  const toText = params.get('to');
  const secondsText = params.get('seconds');
  let from: number;
  let to = now;
  if (fromText !== null || toText !== null) {
    if (secondsText !== null) return { parameter: 'seconds', message: 'give either seconds or from/to, not both' };
    if (toText !== null) {
      const parsed = parseInstant(toText);
      if (parsed === undefined) return { parameter: 'to', message: `${JSON.stringify(toText)} is not unix seconds or ISO 8601 (e.g. 2026-12-03T10:00:00Z)` };
      to = parsed;
    }
    if (fromText === null) return { parameter: 'from', message: 'is required with to' };
    const parsed = parseInstant(fromText);
    if (parsed === undefined) return { parameter: 'from', message: `${JSON.stringify(fromText)} is not unix seconds or ISO 8601 (e.g. 2026-12-03T09:00:00Z)` };
    from = parsed;
    if (from > to) return { parameter: 'from', message: 'must not be after to' };
    if (from < now - maxSeconds) return { parameter: 'from', message: `reaches back further than the retention period (${maxSeconds} s, api.retention_days)` };
  } else {
    const seconds = secondsText === null ? DEFAULT_RANGE_SECONDS : Number(secondsText);
    if (secondsText !== null && !/^-?\d+$/.test(secondsText.trim())) return { parameter: 'seconds', message: `${JSON.stringify(secondsText)} is not a whole number of seconds` };
    if (seconds <= 0) return { parameter: 'seconds', message: 'must be greater than 0' };
    if (seconds > maxSeconds) return { parameter: 'seconds', message: `must be at most ${maxSeconds} (the retention period, api.retention_days)` };
    from = now - seconds;
  }
  const stepText = params.get('step');
  if (stepText === null) return { from, to };
  const step = /^(\d+)s?$/.exec(stepText.trim());
  if (step === null || Number(step[1]) <= 0) return { parameter: 'step', message: `${JSON.stringify(stepText)} is not a whole number of seconds greater than 0, e.g. 300s` };
  return { from, to, step: Number(step[1]) };
}

/** A step bucket: the mean of each numeric field over its samples, the busiest CPU moment, the count. */
export type Bucket = Sample & { cpu_total_max: number | null; samples: number };

/** The bucket's columns: a sample's, then the two a bucket adds. */
export const BUCKET_FIELDS: readonly (SampleField | 'cpu_total_max' | 'samples')[] = [...SAMPLE_FIELDS, 'cpu_total_max', 'samples'];

/**
 * The width of the slots a day's summary holds (csv-summary.ts): a step that is a multiple of it
 * is answered from the summaries.
 */
export const SUMMARY_SLOT_SECONDS = 60;

const round2 = (value: number): number => Math.round(value * 100) / 100;

const CPU_SLOT = NUMERIC_FIELDS.indexOf('cpu_total') + 1;
const FIELDS = NUMERIC_FIELDS.length;

// A record's values, in this order (the summary file's layout, docs/API.md).
const START = 0;
const ROWS = 1;
const HOST = 2;
const CPU_MAX = 3;
const MIN_TS = 4;
const MAX_TS = 5;
const FIRST_BYTE = 6;
const END_BYTE = 7;
const SUMS = 8;
const COUNTS = SUMS + FIELDS;
const CORES = COUNTS + FIELDS;

/**
 * Slots as fixed-width records of float64 values in one array: how a day's summary holds them,
 * and what buckets are merged from, with no object per slot (a week is 10,000 slots).
 * A record: start, rows, host (index into `hosts`), cpu_total max, min and max ts_unix, first
 * and end byte, then per field the sum and (after all sums) the count, then per CPU the sum of
 * its shares and (after those) how many rows had it.
 */
export class SlotRecords {
  /** Values per record. */
  readonly width: number;
  readonly count: number;

  constructor(
    readonly values: Float64Array,
    /** CPUs per record: the most any slot had; a slot with fewer has counts of 0 for the rest. */
    readonly cores: number,
    readonly hosts: readonly string[],
  ) {
    this.width = CORES + 2 * cores;
    this.count = values.length / this.width;
  }

  start(i: number): number {
    return this.values[i * this.width + START]!;
  }

  rows(i: number): number {
    return this.values[i * this.width + ROWS]!;
  }

  host(i: number): string | undefined {
    return this.hosts[this.values[i * this.width + HOST]!];
  }

  minTs(i: number): number {
    return this.values[i * this.width + MIN_TS]!;
  }

  maxTs(i: number): number {
    return this.values[i * this.width + MAX_TS]!;
  }

  firstByte(i: number): number {
    return this.values[i * this.width + FIRST_BYTE]!;
  }

  endByte(i: number): number {
    return this.values[i * this.width + END_BYTE]!;
  }
}

/**
 * Rows into slots of `width` seconds aligned on multiples of it since the epoch, one source at a
 * time: a slot holds the rows of one source only, added up in the order the source gives them.
 * The slots are SlotRecords' records in one Float64Array, kept in time order as they are made
 * (rows come in time order but for a clock stepped back), with no object per slot: a day's 1,440
 * slots outlive many young-generation collections, and objects would be promoted and leave the
 * old generation grown after a start that summarises a week. The array is kept by clear(), so
 * one table serves the days summarised one after the other.
 */
export class SlotTable {
  private values = new Float64Array(0);
  private count = 0;
  /** CPUs per record: the most any row had so far. */
  private cores = 0;
  /** Values per record. */
  private recordWidth = CORES;
  /** The slots' hosts, in the order they were first met (records() puts them in time order). */
  private hosts: string[] = [];
  /** The record the last row went into. */
  private current = -1;

  constructor(readonly width: number) {}

  /** Empty again, its array kept for the next source's slots. */
  clear(): this {
    this.count = 0;
    this.cores = 0;
    this.recordWidth = CORES;
    this.hosts = [];
    this.current = -1;
    return this;
  }

  /** Holds `records` (a summary's) and nothing else, to add more rows to them. */
  restore(records: SlotRecords): this {
    this.clear();
    if (records.values.length > this.values.length) this.values = new Float64Array(records.values.length + 64 * records.width);
    this.values.set(records.values);
    this.count = records.count;
    this.cores = records.cores;
    this.recordWidth = records.width;
    this.hosts = [...records.hosts];
    return this;
  }

  /** The start of the slot holding `ts`. */
  slotStart(ts: number): number {
    return Math.floor(ts / this.width) * this.width;
  }

  add(row: RowView): void {
    const { values: rowValues, cores } = row;
    if (cores.length > this.cores) this.growCores(cores.length);
    const start = this.slotStart(rowValues[0]!);
    let i = this.current;
    if (i === -1 || this.values[i * this.recordWidth + START] !== start) i = this.current = this.slotAt(start);
    const values = this.values;
    const at = i * this.recordWidth;
    if (values[at + ROWS] === 0) values[at + HOST] = this.hostIndex(row.host());
    values[at + ROWS] += 1;
    for (let f = 0; f < FIELDS; f += 1) {
      const value = rowValues[f + 1]!;
      if (Number.isNaN(value)) continue;
      values[at + SUMS + f] += value;
      values[at + COUNTS + f] += 1;
    }
    const cpu = rowValues[CPU_SLOT]!;
    if (cpu > values[at + CPU_MAX]!) values[at + CPU_MAX] = cpu;
    const coreCounts = at + CORES + this.cores;
    for (let core = 0; core < cores.length; core += 1) {
      values[at + CORES + core] += cores[core]!;
      values[coreCounts + core] += 1;
    }
    const ts = rowValues[0]!;
    if (ts < values[at + MIN_TS]!) values[at + MIN_TS] = ts;
    if (ts > values[at + MAX_TS]!) values[at + MAX_TS] = ts;
    if (row.start < values[at + FIRST_BYTE]!) values[at + FIRST_BYTE] = row.start;
    if (row.end > values[at + END_BYTE]!) values[at + END_BYTE] = row.end;
  }

  /**
   * The slots as records, in time order, hosts numbered in that order. A view of the table's
   * array: valid until the next row is added or the table is cleared.
   */
  records(): SlotRecords {
    const width = this.recordWidth;
    const renumbered: number[] = [];
    const hosts: string[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const at = i * width + HOST;
      const host = this.values[at]!;
      renumbered[host] ??= hosts.push(this.hosts[host]!) - 1;
      this.values[at] = renumbered[host]!;
    }
    this.hosts = hosts;
    return new SlotRecords(this.values.subarray(0, this.count * width), this.cores, hosts);
  }

  private hostIndex(host: string): number {
    const index = this.hosts.indexOf(host);
    return index === -1 ? this.hosts.push(host) - 1 : index;
  }

  /** The record of the slot at `start`, made (empty) where time order puts it when there is none. */
  private slotAt(start: number): number {
    const width = this.recordWidth;
    let low = 0;
    let high = this.count;
    if (this.count > 0 && this.values[(this.count - 1) * width + START]! < start) low = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const middleStart = this.values[middle * width + START]!;
      if (middleStart === start) return middle;
      if (middleStart < start) low = middle + 1;
      else high = middle;
    }
    if ((this.count + 1) * width > this.values.length) {
      const grown = new Float64Array(Math.max(64 * width, 2 * this.values.length));
      grown.set(this.values.subarray(0, this.count * width));
      this.values = grown;
    }
    const values = this.values;
    const at = low * width;
    values.copyWithin(at + width, at, this.count * width);
    this.count += 1;
    values[at + START] = start;
    values[at + ROWS] = 0;
    values[at + HOST] = -1;
    values[at + CPU_MAX] = -Infinity;
    values[at + MIN_TS] = Infinity;
    values[at + MAX_TS] = -Infinity;
    values[at + FIRST_BYTE] = Infinity;
    values[at + END_BYTE] = 0;
    values.fill(0, at + SUMS, at + width);
    return low;
  }

  /** Room for `cores` CPUs in every record: the records laid out again, the new CPUs at 0. */
  private growCores(cores: number): void {
    const from = this.recordWidth;
    const to = CORES + 2 * cores;
    const old = this.cores;
    const source = this.values;
    // In place when it fits: the last record moves first, each record's parts from its end, so
    // nothing is overwritten before it is moved.
    const target = this.count * to <= source.length ? source : new Float64Array(Math.max(64 * to, 2 * this.count * to));
    for (let i = this.count - 1; i >= 0; i -= 1) {
      const s = i * from;
      const d = i * to;
      target.set(source.subarray(s + CORES + old, s + CORES + 2 * old), d + CORES + cores);
      target.set(source.subarray(s + CORES, s + CORES + old), d + CORES);
      target.set(source.subarray(s, s + CORES), d);
      target.fill(0, d + CORES + old, d + CORES + cores);
      target.fill(0, d + CORES + cores + old, d + to);
    }
    this.values = target;
    this.cores = cores;
    this.recordWidth = to;
  }
}

/** Records of one source to merge: which ones, in time order. */
interface Run {
  records: SlotRecords;
  picked: readonly number[];
  source: number;
}

/**
 * Groups samples into buckets aligned on multiples of `step` seconds since the epoch: rows go
 * into slots (SUMMARY_SLOT_SECONDS wide when the step is a multiple of that, else a step wide),
 * and slots are merged into buckets in time order, sources in the order they were given. A day's
 * summary holds the same slots, so a bucket is the same whether its slots came from the summary
 * or from the rows. Missing values are left out of a mean; a field missing in every sample of a
 * bucket is null.
 */
export class StepBuckets {
  readonly width: number;
  private readonly runs: Run[] = [];
  private table: SlotTable;
  private source = 0;
  /** A ring sample's values laid out as a scanned row's. */
  private readonly scratch = { values: new Float64Array(FIELDS + 1), cores: [] as number[], start: 0, end: 0, host: () => '' };

  constructor(readonly step: number) {
    this.width = step % SUMMARY_SLOT_SECONDS === 0 ? SUMMARY_SLOT_SECONDS : step;
    this.table = new SlotTable(this.width);
  }

  /** The rows and records added from now on come from another source (the next file, the ring). */
  beginSource(): void {
    this.endSource();
    this.source += 1;
  }

  private endSource(): void {
    const records = this.table.records();
    if (records.count > 0) this.runs.push({ records, picked: Array.from({ length: records.count }, (_, i) => i), source: this.source });
    this.table = new SlotTable(this.width);
  }

  slotStart(ts: number): number {
    return this.table.slotStart(ts);
  }

  /** A row: ts_unix, then NUMERIC_FIELDS (NaN when missing), as the CSV scanner hands it. */
  add(row: RowView): void {
    this.table.add(row);
  }

  addSample(sample: Sample): void {
    const { values } = this.scratch;
    values[0] = sample.ts_unix;
    NUMERIC_FIELDS.forEach((field, i) => {
      values[i + 1] = sample[field] ?? NaN;
    });
    this.scratch.cores = sample.cpu_per_core;
    this.scratch.host = () => sample.host;
    this.table.add(this.scratch);
  }

  /** Records added up elsewhere (a day's summary), `picked` ones only, as the current source's. */
  addRecords(records: SlotRecords, picked: readonly number[]): void {
    if (picked.length > 0) this.runs.push({ records, picked, source: this.source });
  }

  /** The buckets, oldest first. */
  finish(): Bucket[] {
    this.endSource();
    const { runs } = this;
    const buckets: Bucket[] = [];
    const next = runs.map(() => 0);
    // Each run's next record's start; Infinity once it is used up.
    const heads = runs.map((run) => run.records.start(run.picked[0]!));
    const bucket = new Accumulator();
    for (;;) {
      // The run whose next record starts first; on a tie, the earlier source.
      let chosen = -1;
      for (let r = 0; r < runs.length; r += 1) {
        if (heads[r] === Infinity) continue;
        if (chosen === -1 || heads[r]! < heads[chosen]! || (heads[r] === heads[chosen] && runs[r]!.source < runs[chosen]!.source)) chosen = r;
      }
      if (chosen === -1) break;
      const run = runs[chosen]!;
      const i = run.picked[next[chosen]!]!;
      next[chosen] += 1;
      heads[chosen] = next[chosen]! < run.picked.length ? run.records.start(run.picked[next[chosen]!]!) : Infinity;
      const start = Math.floor(run.records.start(i) / this.step) * this.step;
      if (bucket.rows === 0 || bucket.start !== start) {
        if (bucket.rows > 0) buckets.push(bucket.bucket());
        bucket.reset(start, run.records.host(i) ?? '');
      }
      bucket.merge(run.records, i);
    }
    if (bucket.rows > 0) buckets.push(bucket.bucket());
    return buckets;
  }
}

/** One bucket's records merged; reused from bucket to bucket. */
class Accumulator {
  start = 0;
  rows = 0;
  private host = '';
  private readonly sums = new Float64Array(FIELDS);
  private readonly counts = new Float64Array(FIELDS);
  private cpuMax = -Infinity;
  private coreSums: number[] = [];
  private coreCounts: number[] = [];

  reset(start: number, host: string): void {
    this.start = start;
    this.host = host;
    this.rows = 0;
    this.sums.fill(0);
    this.counts.fill(0);
    this.cpuMax = -Infinity;
    this.coreSums = [];
    this.coreCounts = [];
  }

  merge(records: SlotRecords, i: number): void {
    const { values, cores } = records;
    const at = i * records.width;
    this.rows += values[at + ROWS]!;
    for (let f = 0; f < FIELDS; f += 1) {
      this.sums[f] += values[at + SUMS + f]!;
      this.counts[f] += values[at + COUNTS + f]!;
    }
    const cpuMax = values[at + CPU_MAX]!;
    if (cpuMax > this.cpuMax) this.cpuMax = cpuMax;
    for (let core = 0; core < cores; core += 1) {
      const count = values[at + CORES + cores + core]!;
      if (count === 0) continue;
      this.coreSums[core] = (this.coreSums[core] ?? 0) + values[at + CORES + core]!;
      this.coreCounts[core] = (this.coreCounts[core] ?? 0) + count;
    }
  }

  bucket(): Bucket {
    const bucket = { ts_unix: this.start, ts_iso: new Date(this.start * 1000).toISOString(), host: this.host } as Record<string, unknown>;
    for (let f = 0; f < FIELDS; f += 1) bucket[NUMERIC_FIELDS[f]!] = this.counts[f]! > 0 ? round2(this.sums[f]! / this.counts[f]!) : null;
    bucket.cpu_per_core = this.coreSums.map((sum, core) => round2(sum / this.coreCounts[core]!));
    bucket.cpu_total_max = this.cpuMax === -Infinity ? null : this.cpuMax;
    bucket.samples = this.rows;
    return bucket as unknown as Bucket;
  }
}
