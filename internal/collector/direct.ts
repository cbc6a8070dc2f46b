import type { Attributes, BatchObservableResult, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType,
  type CollectionResult, type MetricCollectOptions, type MetricData, type MetricDescriptor, type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { NamingProfile } from '../config/types';
import { VERSION } from '../version/version';
import { unitIn, type MetricDecl, type MetricKey, type Metrics, type ValueOf } from './declaration';
import { reportedMetrics, translateAttributes, wireValueType, type MetricSink } from './naming';

const NO_ATTRIBUTES: Attributes = Object.freeze({});
// One scope object for every collection: the encoder keeps a scope's bytes by object.
const SCOPE = Object.freeze({ name: 'tfo-agent', version: VERSION });

/** A data point as built here: its end time moves when a collection repeats it. */
interface Point {
  startTime: HrTime;
  endTime: HrTime;
  attributes: Attributes;
  value: number;
}

interface DirectMetric {
  descriptor: MetricDescriptor;
  def: MetricDecl;
  points: Point[];
}

/**
 * A collector's metrics as data points built the moment they are observed, outside the SDK.
 *
 * An asynchronous instrument costs the SDK a sorted attribute hash and several map operations per
 * point and cycle, to keep state that metrics of this kind do not need: each point already is a
 * cumulative value or a gauge, and the collector knows when its series started. With 100 processes
 * tracked that state was most of the cycle's extra cost. What a collection observed is what
 * is exported, so a series that was not observed (an exited process) is not.
 */
export class DirectMetrics<M extends Metrics> implements MetricSink<M> {
  private readonly byKey = new Map<MetricKey<M>, DirectMetric>();
  private now: HrTime = [0, 0];
  private last: MetricData[] = [];
  private lastPoints: Point[] = [];
  /**
   * Each attribute object's hostmetrics translation, kept so that a series hands the exporter the
   * same object every cycle (the exporter keeps the encoded bytes of an attribute set by object).
   */
  private readonly translated = new WeakMap<Attributes, Attributes>();

  constructor(readonly profile: NamingProfile, defs: M, enabled: (key: MetricKey<M>) => boolean) {
    for (const [key, name, def] of reportedMetrics(profile, defs, enabled)) {
      const descriptor: MetricDescriptor = { name, description: def.description, unit: unitIn(profile, def), valueType: wireValueType(profile, def) };
      this.byKey.set(key, { descriptor, def, points: [] });
    }
  }

  has(key: MetricKey<M>): boolean {
    return this.byKey.has(key);
  }

  /** `startTime` is when the series began; without it, the collection's own time. */
  observe<K extends MetricKey<M>>(_result: BatchObservableResult | undefined, key: K, value: ValueOf<M[K]>, attrs?: Attributes, startTime?: HrTime): void {
    const metric = this.byKey.get(key);
    if (metric === undefined || !Number.isFinite(value)) return;
    const attributes = attrs === undefined ? NO_ATTRIBUTES : this.translate(attrs);
    metric.points.push({ startTime: startTime ?? this.now, endTime: this.now, attributes, value });
  }

  private translate(attrs: Attributes): Attributes {
    if (this.profile === 'semconv') return attrs;
    let translated = this.translated.get(attrs);
    if (translated === undefined) {
      translated = translateAttributes(this.profile, attrs) ?? NO_ATTRIBUTES;
      this.translated.set(attrs, translated);
    }
    return translated;
  }

  /** A collection starts at `nowMs` (epoch milliseconds). */
  begin(nowMs: number): void {
    this.now = millisToHrTime(nowMs);
    for (const metric of this.byKey.values()) metric.points = [];
  }

  /** What the collection observed; after a failed one, what the last good one did, as of now. */
  end(ok: boolean): MetricData[] {
    if (!ok) return this.restamp(this.now);
    const data: MetricData[] = [];
    this.lastPoints = [];
    for (const { descriptor, def, points } of this.byKey.values()) {
      if (points.length === 0) continue;
      this.lastPoints.push(...points);
      data.push(def.kind === 'gauge'
        ? { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: points }
        : { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: def.kind === 'counter', dataPoints: points });
    }
    this.last = data;
    return data;
  }

  /** A cycle that does not read: the last values stand, as of `nowMs`. */
  repeat(nowMs: number): MetricData[] {
    return this.restamp(millisToHrTime(nowMs));
  }

  private restamp(now: HrTime): MetricData[] {
    for (const point of this.lastPoints) point.endTime = now;
    return this.last;
  }
}

/** One direct collection: runs the collector and returns its metrics. */
export type DirectSource = (options?: MetricCollectOptions) => Promise<MetricData[]>;

/**
 * The direct collectors, handed to the periodic reader as one MetricProducer: the reader collects
 * it beside the SDK's instruments and exports both in one request, under the SDK's resource.
 */
export class DirectProducer implements MetricProducer {
  private readonly sources = new Set<DirectSource>();

  add(source: DirectSource): () => void {
    this.sources.add(source);
    return () => {
      this.sources.delete(source);
    };
  }

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const metrics = (await Promise.all([...this.sources].map((source) => source(options)))).flat();
    return {
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: metrics.length > 0 ? [{ scope: SCOPE, metrics }] : [],
      },
      errors: [],
    };
  }
}
