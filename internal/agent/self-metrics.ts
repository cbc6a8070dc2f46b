import type { BatchObservableResult, Meter } from '@opentelemetry/api';
import type { BacklogStats } from '../buffer/store';
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

/**
 * Reports where every point went through the agent's own MeterProvider, so the numbers reach the
 * collector beside the host metrics. At each collection, from one consistent read:
 *
 *   produced + restored = exported + replayed + backlog.points + sum(dropped by reason) + left_in_buffer
 *
 * Returns the function that removes the callback.
 */
export function registerSelfMetrics(meter: Meter, sources: SelfMetricsSources): () => void {
  const now = sources.now ?? Date.now;
  const counter = (name: string, description: string) => meter.createObservableCounter(name, { description, unit: '{point}' });
  const produced = counter(SELF_METRICS.produced, 'Data points handed to the exporter.');
  const restored = counter(SELF_METRICS.restored, 'Data points found in the buffer at start, left by an earlier run.');
  const exported = counter(SELF_METRICS.exported, 'Data points the collector acknowledged on their first, live export.');
  const spilled = counter(SELF_METRICS.spilled, 'Data points written to the buffer after a retryable export failure.');
  const replayed = counter(SELF_METRICS.replayed, 'Data points delivered from the buffer and removed from it.');
  const dropped = counter(SELF_METRICS.dropped, 'Data points lost, by reason (rejected, undecodable, evicted_size, evicted_age, memory_full, corrupt, shutdown).');
  const leftInBuffer = counter(SELF_METRICS.leftInBuffer, 'Data points still in the buffer file when the buffer closed (restored by the next open).');
  const batches = meter.createObservableGauge(SELF_METRICS.backlogBatches, { description: 'Batches waiting in the buffer.', unit: '{batch}' });
  const points = meter.createObservableGauge(SELF_METRICS.backlogPoints, { description: 'Data points waiting in the buffer.', unit: '{point}' });
  const bytes = meter.createObservableGauge(SELF_METRICS.backlogBytes, { description: 'Stored (compressed) bytes of the batches waiting in the buffer.', unit: 'By' });
  const oldestAge = meter.createObservableGauge(SELF_METRICS.backlogOldestAge, { description: 'Age of the oldest batch in the buffer; 0 when empty.', unit: 's' });
  const observables = [produced, restored, exported, spilled, replayed, dropped, leftInBuffer, batches, points, bytes, oldestAge];

  const callback = (result: BatchObservableResult): void => {
    const a = sources.accounting;
    result.observe(produced, a.produced);
    result.observe(restored, a.restored);
    result.observe(exported, a.exportedLive);
    result.observe(spilled, a.spilled);
    result.observe(replayed, a.replayed);
    for (const [reason, n] of a.dropped) result.observe(dropped, n, { reason });
    result.observe(leftInBuffer, a.leftInBuffer);
    const stats = sources.backlog?.();
    result.observe(batches, stats?.batches ?? 0);
    result.observe(points, a.inBacklog);
    result.observe(bytes, stats?.bytes ?? 0);
    result.observe(oldestAge, stats?.oldestAt === undefined ? 0 : Math.max(0, (now() - stats.oldestAt) / 1000));
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
