import type { BatchObservableResult, Meter } from '@opentelemetry/api';
import type { AgentConfig, NamingProfile } from '../config/types';
import type { Logger } from '../log/logger';
import type { Clock, HostFs } from '../procfs/host';
import { ProfileMetrics, type MetricDef } from './naming';
import type { ObservedSeries } from './series';

/** What every collector is handed: where the host is, what time it is, and its settings. */
export interface CollectorContext {
  host: HostFs;
  clock: Clock;
  config: AgentConfig;
  naming: NamingProfile;
  logger: Logger;
}

/** The outcome of one collection, for the health endpoint and self-metrics. */
export interface CollectionResult {
  collector: string;
  ok: boolean;
  error?: string;
  durationMs: number;
  at: number;
}

/**
 * One metric family (cpu, memory, disk, …), one file. A collector declares its metrics and
 * reads its sources once per collection, inside one batch callback, whatever the number of
 * instruments: `collect` reads and parses, then observes every value.
 */
export interface Collector {
  readonly name: string;
  /** The metrics this collector may report; instruments are created from them. */
  readonly metrics: Record<string, MetricDef>;
  /** Which of `metrics` are on under the current config (default: all). */
  enabled?(key: string): boolean;
  /** Read the sources and observe every value through `metrics.observe`. */
  collect(result: BatchObservableResult, metrics: ProfileMetrics<string>): Promise<void>;
  /** Release whatever the collector holds (timers, caches). */
  close?(): void;
}

/** A registry entry: whether a family runs under a config, and how to build it. */
export interface CollectorFactory {
  readonly name: string;
  enabled(config: AgentConfig): boolean;
  create(context: CollectorContext): Collector;
}

/**
 * Creates the collector's instruments on `meter` and one batch callback that collects all of
 * them. Failures are reported to `onResult`, never thrown into the SDK.
 */
export function registerCollector(
  meter: Meter,
  collector: Collector,
  naming: NamingProfile,
  clock: Clock,
  onResult: (result: CollectionResult) => void,
  series?: ObservedSeries,
): () => void {
  const metrics = new ProfileMetrics<string>(meter, naming, collector.metrics, collector.enabled?.bind(collector));
  metrics.series = series;
  const instruments = metrics.instrumentNames;
  const callback = async (result: BatchObservableResult): Promise<void> => {
    const started = clock.monotonic();
    series?.begin(instruments);
    try {
      await collector.collect(result, metrics);
      series?.end(instruments, true);
      onResult({ collector: collector.name, ok: true, durationMs: clock.monotonic() - started, at: clock.now() });
    } catch (err) {
      series?.end(instruments, false);
      onResult({
        collector: collector.name,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        durationMs: clock.monotonic() - started,
        at: clock.now(),
      });
    }
  };
  meter.addBatchObservableCallback(callback, metrics.observables);
  return () => {
    meter.removeBatchObservableCallback(callback, metrics.observables);
    collector.close?.();
  };
}
