import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, type MetricData, type MetricDescriptor } from '@opentelemetry/sdk-metrics';
import type { BacklogStats } from '../buffer/store';
import type { DirectSource } from '../collector/direct';
import type { ExportAccounting } from '../exporter/accounting';

/** Names of the agent's own metrics; docs/BUFFER.md lists them with the identity they satisfy. */
export const SELF_METRICS = {
  produced: 'tfo_agent.points.produced',
  restored: 'tfo_agent.points.restored',
  exported: 'tfo_agent.points.exported',
  spilled: 'tfo_agent.points.spilled',
  replayed: 'tfo_agent.points.replayed',
  dropped: 'tfo_agent.points.dropped',
  leftInBuffer: 'tfo_agent.points.left_in_buffer',
  backlogBatches: 'tfo_agent.buffer.backlog.batches',
  backlogPoints: 'tfo_agent.buffer.backlog.points',
  backlogBytes: 'tfo_agent.buffer.backlog.bytes',
  backlogOldestAge: 'tfo_agent.buffer.backlog.oldest_age',
} as const;

export interface SelfMetricsSources {
  accounting: ExportAccounting;
  /** The buffer's backlog; absent when buffer.enabled is false (the gauges then report 0). */
  backlog?: () => BacklogStats;
  now?: () => number;
}

const NO_ATTRIBUTES: Attributes = Object.freeze({});

const descriptor = (name: string, description: string, unit: string): MetricDescriptor => ({ name, description, unit, valueType: ValueType.DOUBLE });

const COUNTERS = {
  produced: descriptor(SELF_METRICS.produced, 'Data points handed to the exporter.', '{point}'),
  restored: descriptor(SELF_METRICS.restored, 'Data points found in the buffer at start, left by an earlier run.', '{point}'),
  exported: descriptor(SELF_METRICS.exported, 'Data points the collector acknowledged on their first, live export.', '{point}'),
  spilled: descriptor(SELF_METRICS.spilled, 'Data points written to the buffer after a retryable export failure.', '{point}'),
  replayed: descriptor(SELF_METRICS.replayed, 'Data points delivered from the buffer and removed from it.', '{point}'),
  dropped: descriptor(SELF_METRICS.dropped, 'Data points lost, by reason (rejected, undecodable, evicted_size, evicted_age, memory_full, corrupt, shutdown).', '{point}'),
  leftInBuffer: descriptor(SELF_METRICS.leftInBuffer, 'Data points still in the buffer file when the buffer closed (restored by the next open).', '{point}'),
};
const GAUGES = {
  batches: descriptor(SELF_METRICS.backlogBatches, 'Batches waiting in the buffer.', '{batch}'),
  points: descriptor(SELF_METRICS.backlogPoints, 'Data points waiting in the buffer.', '{point}'),
  bytes: descriptor(SELF_METRICS.backlogBytes, 'Stored (compressed) bytes of the batches waiting in the buffer.', 'By'),
  oldestAge: descriptor(SELF_METRICS.backlogOldestAge, 'Age of the oldest batch in the buffer; 0 when empty.', 's'),
};

interface Point {
  startTime: HrTime;
  endTime: HrTime;
  attributes: Attributes;
  value: number;
}

const sum = (metric: MetricDescriptor, dataPoints: Point[]): MetricData =>
  ({ descriptor: metric, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints });
const gauge = (metric: MetricDescriptor, point: Point): MetricData =>
  ({ descriptor: metric, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: [point] });

/**
 * Reports where every point went, exported beside the host metrics. At each collection, from one
 * consistent read:
 *
 *   produced + restored = exported + replayed + backlog.points + sum(dropped by reason) + left_in_buffer
 *
 * The values are the ledger's own cumulative counts and gauges, so they are built as data points
 * directly (the direct producer's path) rather than through eleven asynchronous instruments: the
 * SDK's per-instrument state for them cost about a tenth of a four-family cycle, to keep nothing
 * these values need. Counters start when this source is made.
 */
export function selfMetricsSource(sources: SelfMetricsSources): DirectSource {
  const now = sources.now ?? Date.now;
  const startTime = millisToHrTime(now());
  // One attribute object per drop reason, so the encoder keeps its bytes (it keys them by object).
  const reasons = new Map<string, Attributes>();
  const reasonAttributes = (reason: string): Attributes => {
    let attributes = reasons.get(reason);
    if (attributes === undefined) {
      attributes = Object.freeze({ reason });
      reasons.set(reason, attributes);
    }
    return attributes;
  };

  return async () => {
    const nowMs = now();
    const endTime: HrTime = millisToHrTime(nowMs);
    const point = (value: number, attributes = NO_ATTRIBUTES): Point => ({ startTime, endTime, attributes, value });

    const a = sources.accounting;
    const dropped = [...a.dropped].map(([reason, n]) => point(n, reasonAttributes(reason)));
    const stats = sources.backlog?.();
    const metrics = [
      sum(COUNTERS.produced, [point(a.produced)]),
      sum(COUNTERS.restored, [point(a.restored)]),
      sum(COUNTERS.exported, [point(a.exportedLive)]),
      sum(COUNTERS.spilled, [point(a.spilled)]),
      sum(COUNTERS.replayed, [point(a.replayed)]),
      sum(COUNTERS.leftInBuffer, [point(a.leftInBuffer)]),
      gauge(GAUGES.batches, point(stats?.batches ?? 0)),
      gauge(GAUGES.points, point(a.inBacklog)),
      gauge(GAUGES.bytes, point(stats?.bytes ?? 0)),
      gauge(GAUGES.oldestAge, point(stats?.oldestAt === undefined ? 0 : Math.max(0, (nowMs - stats.oldestAt) / 1000))),
    ];
    // No point yet for a reason that has not occurred: the metric appears with the first drop.
    if (dropped.length > 0) metrics.splice(5, 0, sum(COUNTERS.dropped, dropped));
    return metrics;
  };
}
