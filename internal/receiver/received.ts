// Metrics that receivers took in from other hosts, handed to the exporter beside the agent's own:
// each sender keeps its own resource, in the same request, the same accounting and the same buffer.
import type { ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricsBatch } from '../exporter/encode';

/** What a receiver got since the last export, one ResourceMetrics per sender. */
export type ReceivedSource = (nowMs: number) => ResourceMetrics[];

export class ReceivedResources {
  private readonly sources = new Set<ReceivedSource>();

  add(source: ReceivedSource): () => void {
    this.sources.add(source);
    return () => {
      this.sources.delete(source);
    };
  }

  drain(nowMs: number): ResourceMetrics[] {
    const out: ResourceMetrics[] = [];
    for (const source of this.sources) out.push(...source(nowMs));
    return out;
  }
}

/** The exporter, given at each export what the receivers took in since the last one. */
export function exportWithReceived(exporter: PushMetricExporter, received: ReceivedResources, now: () => number = Date.now): PushMetricExporter {
  return {
    export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
      const others = received.drain(now());
      if (others.length > 0) (metrics as MetricsBatch).others = others;
      exporter.export(metrics, resultCallback);
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}
