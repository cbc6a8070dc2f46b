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
 * The rows of one source (a day file, the ring) that fall in one time slot, added up: what step
 * buckets are merged from, and what a day's summary stores. Sums rather than means, so that
 * merging slots gives the same bucket whichever slots it is merged from.
 */
export class Slot {
  rows = 0;
  /** The first row's host. */
  host = '';
  /** Per NUMERIC_FIELDS: the sum of the values present, and how many were. */
  // Plain arrays: a week's query makes ten thousand slots, and a typed array costs far more to create.
  readonly sums: number[] = NUMERIC_FIELDS.map(() => 0);
  readonly counts: number[] = NUMERIC_FIELDS.map(() => 0);
  cpuMax = -Infinity;
  /** Per logical CPU: the sum of its shares, and how many rows had it. */
  coreSums: number[] = [];
  coreCounts: number[] = [];
  /** The rows' earliest and latest ts_unix, and the bytes of their file they lie in. */
  minTs = Infinity;
  maxTs = -Infinity;
  firstByte = Infinity;
  endByte = 0;

  constructor(readonly start: number) {}

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

/**
 * Rows into slots of `width` seconds aligned on multiples of it since the epoch, one source at a
 * time: a slot holds the rows of one source only, in the order the source gives them.
 */
export class SlotTable {
  /** Oldest source first; within a source, in the order their first rows came. */
  readonly slots: Slot[] = [];
  private bySourceStart = new Map<number, Slot>();
  private current: Slot | undefined;

  constructor(readonly width: number) {}

  /** The rows and slots added from now on come from another source (the next file, the ring). */
  beginSource(): void {
    this.bySourceStart = new Map();
    this.current = undefined;
  }

  /** The start of the slot holding `ts`. */
  slotStart(ts: number): number {
    return Math.floor(ts / this.width) * this.width;
  }

  add(row: RowView): void {
    const start = this.slotStart(row.values[0]!);
    let slot = this.current;
    if (slot === undefined || slot.start !== start) {
      slot = this.bySourceStart.get(start);
      if (slot === undefined) {
        slot = new Slot(start);
        this.bySourceStart.set(start, slot);
        this.slots.push(slot);
      }
      this.current = slot;
    }
    slot.add(row);
  }

  /** A slot added up elsewhere (a day's summary), as the current source's. */
  addSlot(slot: Slot): void {
    this.bySourceStart.set(slot.start, slot);
    this.slots.push(slot);
  }
}

/**
 * Groups samples into buckets aligned on multiples of `step` seconds since the epoch: rows go
 * into slots (SUMMARY_SLOT_SECONDS wide when the step is a multiple of that, else a step wide),
 * slots are merged into buckets in time order, sources in the order they were given. A day's
 * summary holds the same slots, so a bucket is the same whether its slots came from the summary
 * or from the rows. Missing values are left out of a mean; a field missing in every sample of a
 * bucket is null.
 */
export class StepBuckets extends SlotTable {
  /** A ring sample's values laid out as a scanned row's. */
  private readonly scratch = { values: new Float64Array(NUMERIC_FIELDS.length + 1), cores: [] as number[], start: 0, end: 0, host: () => '' };

  constructor(readonly step: number) {
    super(step % SUMMARY_SLOT_SECONDS === 0 ? SUMMARY_SLOT_SECONDS : step);
  }

  addSample(sample: Sample): void {
    const { values } = this.scratch;
    values[0] = sample.ts_unix;
    NUMERIC_FIELDS.forEach((field, i) => {
      values[i + 1] = sample[field] ?? NaN;
    });
    this.scratch.cores = sample.cpu_per_core;
    this.scratch.host = () => sample.host;
    this.add(this.scratch);
  }

  /** The buckets, oldest first. */
  finish(): Bucket[] {
    // Stable: slots of the same start keep their sources' order.
    const slots = this.slots.slice().sort((a, b) => a.start - b.start);
    const buckets: Bucket[] = [];
    let merged: Slot | undefined;
    for (const slot of slots) {
      const start = Math.floor(slot.start / this.step) * this.step;
      if (merged === undefined || merged.start !== start) {
        if (merged !== undefined) buckets.push(bucketOf(merged));
        merged = new Slot(start);
        merged.host = slot.host;
      }
      mergeSlot(merged, slot);
    }
    if (merged !== undefined) buckets.push(bucketOf(merged));
    return buckets;
  }
}

function mergeSlot(into: Slot, slot: Slot): void {
  into.rows += slot.rows;
  for (let i = 0; i < NUMERIC_FIELDS.length; i += 1) {
    into.sums[i] += slot.sums[i]!;
    into.counts[i] += slot.counts[i]!;
  }
  if (slot.cpuMax > into.cpuMax) into.cpuMax = slot.cpuMax;
  for (let core = 0; core < slot.coreSums.length; core += 1) {
    into.coreSums[core] = (into.coreSums[core] ?? 0) + slot.coreSums[core]!;
    into.coreCounts[core] = (into.coreCounts[core] ?? 0) + slot.coreCounts[core]!;
  }
}

function bucketOf(slot: Slot): Bucket {
  const bucket = { ts_unix: slot.start, ts_iso: new Date(slot.start * 1000).toISOString(), host: slot.host } as Bucket;
  NUMERIC_FIELDS.forEach((field, i) => {
    (bucket as unknown as Record<string, number | null>)[field] = slot.counts[i]! > 0 ? round2(slot.sums[i]! / slot.counts[i]!) : null;
  });
  bucket.cpu_per_core = slot.coreSums.map((sum, core) => round2(sum / slot.coreCounts[core]!));
  bucket.cpu_total_max = slot.cpuMax === -Infinity ? null : slot.cpuMax;
  bucket.samples = slot.rows;
  return bucket;
}
