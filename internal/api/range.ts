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

const round2 = (value: number): number => Math.round(value * 100) / 100;

/**
 * Groups samples, given oldest first, into buckets aligned on multiples of `step` seconds since
 * the epoch. Missing values are left out of a mean; a field missing in every sample of a bucket
 * is null.
 */
export class StepBuckets {
  readonly buckets: Bucket[] = [];
  private start = NaN;
  private count = 0;
  private host = '';
  private readonly sums = new Float64Array(NUMERIC_FIELDS.length);
  private readonly counts = new Uint32Array(NUMERIC_FIELDS.length);
  private cpuMax = -Infinity;
  private coreSums: number[] = [];
  private coreCounts: number[] = [];
  /** A ring sample's values laid out as a scanned row's. */
  private readonly scratch = { values: new Float64Array(NUMERIC_FIELDS.length + 1), cores: [] as number[], host: () => '' };
  private readonly cpuSlot = NUMERIC_FIELDS.indexOf('cpu_total') + 1;

  constructor(private readonly step: number) {}

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

  /** A row: ts_unix, then NUMERIC_FIELDS (NaN when missing), as the CSV scanner hands it. */
  add(row: RowView): void {
    const { values, cores } = row;
    const start = Math.floor(values[0]! / this.step) * this.step;
    if (start !== this.start) {
      this.flush();
      this.start = start;
      this.host = row.host();
    }
    this.count += 1;
    for (let i = 0; i < NUMERIC_FIELDS.length; i += 1) {
      const value = values[i + 1]!;
      if (Number.isNaN(value)) continue;
      this.sums[i] += value;
      this.counts[i] += 1;
    }
    const cpu = values[this.cpuSlot]!;
    if (cpu > this.cpuMax) this.cpuMax = cpu;
    for (let core = 0; core < cores.length; core += 1) {
      this.coreSums[core] = (this.coreSums[core] ?? 0) + cores[core]!;
      this.coreCounts[core] = (this.coreCounts[core] ?? 0) + 1;
    }
  }

  /** The buckets, oldest first, the last one included. */
  finish(): Bucket[] {
    this.flush();
    return this.buckets;
  }

  private flush(): void {
    if (this.count === 0) return;
    const bucket = { ts_unix: this.start, ts_iso: new Date(this.start * 1000).toISOString(), host: this.host } as Bucket;
    NUMERIC_FIELDS.forEach((field, i) => {
      (bucket as unknown as Record<string, number | null>)[field] = this.counts[i]! > 0 ? round2(this.sums[i]! / this.counts[i]!) : null;
    });
    bucket.cpu_per_core = this.coreSums.map((sum, core) => round2(sum / this.coreCounts[core]!));
    bucket.cpu_total_max = this.cpuMax === -Infinity ? null : this.cpuMax;
    bucket.samples = this.count;
    this.buckets.push(bucket);
    this.count = 0;
    this.sums.fill(0);
    this.counts.fill(0);
    this.cpuMax = -Infinity;
    this.coreSums = [];
    this.coreCounts = [];
  }
}
