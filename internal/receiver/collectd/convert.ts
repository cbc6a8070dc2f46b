// collectd value lists as OpenTelemetry data points, one resource per sending host. Each value
// list becomes points stamped with collectd's own time, kept until the next export takes them:
// none is collapsed into the latest and none is re-stamped with the export's time.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, type DataPoint, type MetricData, type MetricDescriptor, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { VERSION } from '../../version/version';
import type { ValueList } from './decode';
import { hrTimeToMillis, type ValueKind } from './protocol';
import type { DataSource, TypesDb } from './types-db';

/** A series whose value lists stop arriving is forgotten after this many of its intervals. */
export const STALE_INTERVALS = 3;
/** The interval assumed for a sender that sends none (collectd's default). */
const DEFAULT_INTERVAL_MS = 10_000;

export type ConvertDrop = 'max_series' | 'values_mismatch';

/** What one data source of one value list series remembers between value lists. */
interface SeriesState {
  metric: PendingMetric;
  attributes: Attributes;
  startTime: HrTime;
  lastTime: HrTime;
  lastValue: number;
  lastSeenMs: number;
  staleAfterMs: number;
}

interface PendingMetric {
  descriptor: MetricDescriptor;
  kind: ValueKind;
  monotonic: boolean;
  points: Array<DataPoint<number>>;
}

interface SenderState {
  resource: Resource;
  metrics: Map<string, PendingMetric>;
}

const SCOPE = { name: 'tfo-agent/collectd', version: VERSION };

/**
 * The metric name as the OpenTelemetry Collector's collectd receiver makes it:
 * `type[.type_instance][.dsname]`, the data-source name only when the type has several.
 */
export function metricName(vl: Pick<ValueList, 'type' | 'typeInstance'>, source: DataSource, sources: number): string {
  let name = vl.type;
  if (vl.typeInstance !== '') name += `.${vl.typeInstance}`;
  if (sources > 1) name += `.${source.name}`;
  return name;
}

/** The data sources of a value list: types.db's, or, for a type it does not know, named by position. */
function dataSources(vl: ValueList, typesDb: TypesDb): DataSource[] | undefined {
  const known = typesDb.get(vl.type);
  if (known !== undefined) return known.length === vl.values.length ? known : undefined;
  return vl.kinds.map((kind, i) => ({ name: vl.kinds.length === 1 ? 'value' : String(i), kind, min: Number.NaN, max: Number.NaN }));
}

export class CollectdMetrics {
  private readonly senders = new Map<string, SenderState>();
  private readonly series = new Map<string, SeriesState>();
  private pendingPoints = 0;

  constructor(
    private readonly typesDb: TypesDb,
    private readonly maxSeries: number,
    private readonly onDrop: (reason: ConvertDrop) => void,
  ) {}

  get seriesCount(): number {
    return this.series.size;
  }

  /** Adds a value list's points; `nowMs` is when it arrived. */
  add(vl: ValueList, nowMs: number): void {
    const sources = dataSources(vl, this.typesDb);
    if (sources === undefined) {
      this.onDrop('values_mismatch');
      return;
    }
    const key = `${vl.host}\u0000${vl.plugin}\u0000${vl.pluginInstance}\u0000${vl.type}\u0000${vl.typeInstance}`;
    const staleAfterMs = STALE_INTERVALS * (vl.intervalMs > 0 ? vl.intervalMs : DEFAULT_INTERVAL_MS);
    for (let i = 0; i < sources.length; i++) {
      const value = vl.values[i];
      // collectd's "no value": a NaN gauge is not a point.
      if (Number.isNaN(value)) continue;
      const source = sources[i];
      const seriesKey = `${key}\u0000${source.name}`;
      let state = this.series.get(seriesKey);
      if (state === undefined) {
        if (this.series.size >= this.maxSeries) {
          this.onDrop('max_series');
          continue;
        }
        state = {
          metric: this.metricFor(vl, source, sources.length),
          attributes: attributesOf(vl, source),
          startTime: vl.time,
          lastTime: vl.time,
          lastValue: value,
          lastSeenMs: nowMs,
          staleAfterMs,
        };
        this.series.set(seriesKey, state);
      } else if (state.metric.kind !== 'gauge' && state.metric.kind !== 'absolute' && value < state.lastValue && state.metric.monotonic) {
        // A counter that went down: the sender restarted (or wrapped). A new series starts where the last point ended.
        state.startTime = state.lastTime;
      }
      const startTime = state.metric.kind === 'absolute' ? absoluteStart(state, vl) : state.metric.kind === 'gauge' ? vl.time : state.startTime;
      state.metric.points.push({ startTime, endTime: vl.time, attributes: state.attributes, value });
      this.pendingPoints += 1;
      state.lastTime = vl.time;
      state.lastValue = value;
      state.lastSeenMs = nowMs;
      state.staleAfterMs = staleAfterMs;
    }
  }

  private metricFor(vl: ValueList, source: DataSource, sources: number): PendingMetric {
    let sender = this.senders.get(vl.host);
    if (sender === undefined) {
      sender = { resource: resourceFromAttributes({ 'host.name': vl.host }), metrics: new Map() };
      this.senders.set(vl.host, sender);
    }
    const name = metricName(vl, source, sources);
    let metric = sender.metrics.get(name);
    if (metric === undefined) {
      metric = {
        descriptor: { name, description: `collectd type ${vl.type}, data source ${source.name} (${source.kind.toUpperCase()})`, unit: '', valueType: ValueType.DOUBLE },
        kind: source.kind,
        monotonic: source.kind === 'counter' || (source.kind === 'derive' && source.min >= 0),
        points: [],
      };
      sender.metrics.set(name, metric);
    }
    return metric;
  }

  /** The points received since the last call, one ResourceMetrics per sending host; forgets stale series. */
  drain(nowMs: number): ResourceMetrics[] {
    const out: ResourceMetrics[] = [];
    for (const sender of this.senders.values()) {
      const metrics: MetricData[] = [];
      for (const metric of sender.metrics.values()) {
        if (metric.points.length === 0) continue;
        metrics.push(toMetricData(metric));
        metric.points = [];
      }
      if (metrics.length > 0) out.push({ resource: sender.resource, scopeMetrics: [{ scope: SCOPE, metrics }] });
    }
    this.pendingPoints = 0;
    this.expire(nowMs);
    return out;
  }

  get pending(): number {
    return this.pendingPoints;
  }

  private expire(nowMs: number): void {
    for (const [key, state] of this.series) {
      if (nowMs - state.lastSeenMs > state.staleAfterMs) this.series.delete(key);
    }
    // A sender or metric with no series left is forgotten too, so that memory follows what arrives.
    const live = new Set<PendingMetric>();
    for (const state of this.series.values()) live.add(state.metric);
    for (const [host, sender] of this.senders) {
      for (const [name, metric] of sender.metrics) if (!live.has(metric)) sender.metrics.delete(name);
      if (sender.metrics.size === 0) this.senders.delete(host);
    }
  }
}

/** An ABSOLUTE value counts what happened since the sender's previous one: one interval back. */
function absoluteStart(state: SeriesState, vl: ValueList): HrTime {
  if (state.lastTime !== vl.time && hrTimeToMillis(state.lastTime) < hrTimeToMillis(vl.time)) return state.lastTime;
  const startMs = hrTimeToMillis(vl.time) - (vl.intervalMs > 0 ? vl.intervalMs : DEFAULT_INTERVAL_MS);
  return [Math.floor(startMs / 1000), Math.round((startMs % 1000) * 1e6)];
}

function attributesOf(vl: ValueList, source: DataSource): Attributes {
  const attributes: Attributes = { plugin: vl.plugin };
  if (vl.pluginInstance !== '') attributes.plugin_instance = vl.pluginInstance;
  if (vl.typeInstance !== '') attributes.type_instance = vl.typeInstance;
  attributes.dsname = source.name;
  return attributes;
}

function toMetricData(metric: PendingMetric): MetricData {
  const { descriptor, points } = metric;
  if (metric.kind === 'gauge') return { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: points };
  return {
    descriptor,
    aggregationTemporality: metric.kind === 'absolute' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: metric.monotonic || metric.kind === 'absolute',
    dataPoints: points,
  };
}
