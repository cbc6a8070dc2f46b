// GET /metrics: the batch the OTLP exporter last sent, in the Prometheus text exposition format,
// written by @opentelemetry/exporter-prometheus's serializer (its OpenTelemetry-to-Prometheus
// name translation: dots to underscores, `_total` on monotonic sums). The same collection, so the
// same series and values as the export, per-process series of the direct path included.
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** The exposition's content type (text format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The last exported batch, recorded by the pipeline and read by the API. Outlives reloads. */
export class LatestExport {
  private metrics: ResourceMetrics | undefined;
  private exposition: { of: ResourceMetrics; text: string } | undefined;
  private serializer: { serialize(metrics: ResourceMetrics): string } | undefined;

  record(metrics: ResourceMetrics): void {
    this.metrics = metrics;
  }

  /** The exposition of the last batch, written once per batch however often it is scraped. */
  prometheusText(): string | undefined {
    const metrics = this.metrics;
    if (metrics === undefined) return undefined;
    if (this.exposition?.of !== metrics) {
      // Loaded on the first scrape: an agent nobody scrapes does not carry the serializer.
      if (this.serializer === undefined) {
        const { PrometheusSerializer } = require('@opentelemetry/exporter-prometheus') as typeof import('@opentelemetry/exporter-prometheus');
        this.serializer = new PrometheusSerializer();
      }
      this.exposition = { of: metrics, text: this.serializer.serialize(metrics) };
    }
    return this.exposition.text;
  }
}
