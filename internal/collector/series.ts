import type { Attributes } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { BootStartTimes } from './start-time';

/**
 * A key for one attribute set. Insertion order is kept rather than sorted (sorting was half the
 * cost with 100 processes tracked): each instrument's attribute objects are built by the same code
 * every cycle, and the SDK exports an object that was observed, so the order is the same.
 */
export function seriesKey(attrs: Attributes | undefined): string {
  let key = '';
  if (attrs !== undefined) for (const k in attrs) key += `${k}\u0000${String(attrs[k])}\u0001`;
  return key;
}

// The key of each attribute object seen at export: the instruments hand the SDK the same object
// for a series every cycle (ProfileMetrics), so the key is built once per series, not per export.
const exportedKeys = new WeakMap<Attributes, string>();

function keyOf(attrs: Attributes): string {
  let key = exportedKeys.get(attrs);
  if (key === undefined) {
    key = seriesKey(attrs);
    exportedKeys.set(attrs, key);
  }
  return key;
}

/**
 * The attribute sets each instrument reported in its collector's latest successful collection.
 *
 * The OpenTelemetry specification says an asynchronous instrument's cumulative export must not
 * carry an attribute set that its last successful callback did not observe; sdk-metrics 2.x keeps
 * exporting every set it ever saw at its last value. Without this, an exited process, a removed
 * disk or an interface that went away would be exported forever. Collectors record what they
 * observe here, and `retainObserved` drops the rest before export.
 */
export class ObservedSeries {
  private readonly committed = new Map<string, Set<string>>();
  private readonly pending = new Map<string, Set<string>>();

  /** A collection of these instruments starts: what they report next replaces what they had. */
  begin(instruments: readonly string[]): void {
    for (const name of instruments) this.pending.set(name, new Set());
  }

  record(instrument: string, attrs: Attributes | undefined): void {
    this.recordKey(instrument, seriesKey(attrs));
  }

  /** `record` with the attribute set's `seriesKey` already built. */
  recordKey(instrument: string, key: string): void {
    this.pending.get(instrument)?.add(key);
  }

  /**
   * The collection finished. After a failed one the previous sets stay: a family that could not
   * be read this cycle keeps its series rather than vanishing from dashboards.
   */
  end(instruments: readonly string[], ok: boolean): void {
    for (const name of instruments) {
      const observed = this.pending.get(name);
      this.pending.delete(name);
      if (ok && observed !== undefined) this.committed.set(name, observed);
    }
  }

  /** Removes, in place, the data points of tracked instruments that were not observed last. */
  retainObserved(metrics: ResourceMetrics): void {
    for (const scope of metrics.scopeMetrics) {
      scope.metrics = scope.metrics.filter((metric) => {
        const observed = this.committed.get(metric.descriptor.name);
        if (observed === undefined) return true;
        const points = (metric.dataPoints as Array<{ attributes: Attributes }>).filter((p) => observed.has(keyOf(p.attributes)));
        (metric as { dataPoints: unknown[] }).dataPoints = points;
        return points.length > 0;
      });
    }
  }
}

/**
 * The exporter, seeing only the series the collectors last observed, with the start times of
 * `starts` when given. `onExport` sees each batch as it is exported: local readers (the API's
 * Prometheus exposition) serve the same collection.
 */
export function exportObservedOnly<E extends PushMetricExporter>(exporter: E, series: ObservedSeries, onExport?: (metrics: ResourceMetrics) => void, starts?: BootStartTimes): PushMetricExporter {
  return {
    export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
      series.retainObserved(metrics);
      starts?.apply(metrics);
      onExport?.(metrics);
      exporter.export(metrics, resultCallback);
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}
