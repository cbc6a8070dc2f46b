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

/**
 * The rows of one source (a day file, the ring) that fall in one time slot, added up while the
 * rows are read. Sums rather than means, so that merging slots gives the same bucket whichever
 * slots it is merged from.
 */
export class Slot {
  start!: number;
  rows!: number;
  /** The first row's host. */
  host!: string;
  /** Per NUMERIC_FIELDS: the sum of the values present, and how many were. */
  readonly sums: number[] = NUMERIC_FIELDS.map(() => 0);
  readonly counts: number[] = NUMERIC_FIELDS.map(() => 0);
  cpuMax!: number;
  /** Per logical CPU: the sum of its shares, and how many rows had it. */
  coreSums!: number[];
  coreCounts!: number[];
  /** The rows' earliest and latest ts_unix, and the bytes of their file they lie in. */
  minTs!: number;
  maxTs!: number;
  firstByte!: number;
  endByte!: number;

  constructor(start: number) {
    this.reset(start);
  }

  /** Empty again, for the slot at `start`. */
  reset(start: number): this {
    this.start = start;
    this.rows = 0;
    this.host = '';
    this.sums.fill(0);
    this.counts.fill(0);
    this.cpuMax = -Infinity;
    this.coreSums = [];
    this.coreCounts = [];
    this.minTs = Infinity;
    this.maxTs = -Infinity;
    this.firstByte = Infinity;
    this.endByte = 0;
    return this;
  }

  add(row: RowView): void {
    const { values, cores } = row;
    if (this.rows === 0) this.host = row.host();
    this.rows += 1;
    for (let i = 0; i < NUMERIC_FIELDS.length; i += 1) {
      const value = values[i + 1]!;
      if (Number.isNaN(value)) continue;
      this.sums[i] += value;
      this.counts[i] += 1;
    }
    const cpu = values[CPU_SLOT]!;
    if (cpu > this.cpuMax) this.cpuMax = cpu;
    for (let core = 0; core < cores.length; core += 1) {
      this.coreSums[core] = (this.coreSums[core] ?? 0) + cores[core]!;
      this.coreCounts[core] = (this.coreCounts[core] ?? 0) + 1;
    }
    const ts = values[0]!;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    if (row.start < this.firstByte) this.firstByte = row.start;
    if (row.end > this.endByte) this.endByte = row.end;
  }
}

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

  /** The records of `slots`, in time order. */
  static of(slots: readonly Slot[]): SlotRecords {
    const ordered = slots.slice().sort((a, b) => a.start - b.start);
    const hosts: string[] = [];
    let cores = 0;
    for (const slot of ordered) cores = Math.max(cores, slot.coreSums.length);
    const width = CORES + 2 * cores;
    const values = new Float64Array(ordered.length * width);
    ordered.forEach((slot, n) => {
      const at = n * width;
      let host = hosts.indexOf(slot.host);
      if (host === -1) host = hosts.push(slot.host) - 1;
      values[at + START] = slot.start;
      values[at + ROWS] = slot.rows;
      values[at + HOST] = host;
      values[at + CPU_MAX] = slot.cpuMax;
      values[at + MIN_TS] = slot.minTs;
      values[at + MAX_TS] = slot.maxTs;
      values[at + FIRST_BYTE] = slot.firstByte;
      values[at + END_BYTE] = slot.endByte;
      values.set(slot.sums, at + SUMS);
      values.set(slot.counts, at + COUNTS);
      values.set(slot.coreSums, at + CORES);
      values.set(slot.coreCounts, at + CORES + cores);
    });
    return new SlotRecords(values, cores, hosts);
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
 * time: a slot holds the rows of one source only, in the order the source gives them.
 */
export class SlotTable {
  /** In the order their first rows came. */
  readonly slots: Slot[] = [];
  private readonly byStart = new Map<number, Slot>();
  private current: Slot | undefined;

  constructor(
    readonly width: number,
    /** Slots no longer used (another day's, already written), taken before new ones are made. */
    private readonly spare: Slot[] = [],
  ) {}

  /** The start of the slot holding `ts`. */
  slotStart(ts: number): number {
    return Math.floor(ts / this.width) * this.width;
  }

  add(row: RowView): void {
    const start = this.slotStart(row.values[0]!);
    let slot = this.current;
    if (slot === undefined || slot.start !== start) {
      slot = this.byStart.get(start);
      if (slot === undefined) {
        slot = this.spare.pop()?.reset(start) ?? new Slot(start);
        this.byStart.set(start, slot);
        this.slots.push(slot);
      }
      this.current = slot;
    }
    slot.add(row);
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
    if (this.table.slots.length > 0) {
      const records = SlotRecords.of(this.table.slots);
      this.runs.push({ records, picked: Array.from({ length: records.count }, (_, i) => i), source: this.source });
    }
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
