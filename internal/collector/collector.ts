import type { BatchObservableResult, Meter } from '@opentelemetry/api';
import type { AgentConfig, NamingProfile } from '../config/types';
import { errorMessage, type Logger } from '../log/logger';
import type { Clock, HostFs } from '../procfs/host';
import { DirectMetrics, type DirectProducer } from './direct';
import { ProfileMetrics, type MetricDef, type MetricSink } from './naming';
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
  /**
   * Its points bypass the SDK's aggregation (DirectMetrics): for many series that need none, such
   * as per-process metrics.
   */
  readonly direct?: boolean;
  /**
   * False when this cycle is not one to read in (a family on a slower schedule than the system
   * interval): the previous values stand, in the export too.
   */
  due?(): boolean;
  /**
   * Read the sources and observe every value through `metrics.observe`. `result` is the SDK's
   * batch result, undefined for a direct collector.
   */
  collect(result: BatchObservableResult | undefined, metrics: MetricSink<string>): Promise<void>;
  /** Release whatever the collector holds (timers, caches). */
  close?(): void;
}

/** A registry entry: whether a family runs under a config, and how to build it. */
export interface CollectorFactory {
  readonly name: string;
  enabled(config: AgentConfig): boolean;
  create(context: CollectorContext): Collector;
}

/** Runs one collection, timed, and reports its outcome; true when it succeeded. */
async function runCollection(collector: Collector, clock: Clock, onResult: (result: CollectionResult) => void, collect: () => Promise<void>): Promise<boolean> {
  const started = clock.monotonic();
  try {
    await collect();
    onResult({ collector: collector.name, ok: true, durationMs: clock.monotonic() - started, at: clock.now() });
    return true;
  } catch (err) {
    onResult({
      collector: collector.name,
      ok: false,
      error: errorMessage(err),
      durationMs: clock.monotonic() - started,
      at: clock.now(),
    });
    return false;
  }
}

/**
 * Creates the collector's instruments on `meter` and one batch callback that collects all of
 * them; a `direct` collector goes to `direct` instead, when given. Failures are reported to
 * `onResult`, never thrown into the SDK.
 */
export function registerCollector(
  meter: Meter,
  collector: Collector,
  naming: NamingProfile,
  clock: Clock,
  onResult: (result: CollectionResult) => void,
  series?: ObservedSeries,
  direct?: DirectProducer,
): () => void {
  const enabled = collector.enabled?.bind(collector);
  if (collector.direct === true && direct !== undefined) {
    const metrics = new DirectMetrics<string>(naming, collector.metrics, enabled);
    const remove = direct.add(async () => {
      if (collector.due?.() === false) return metrics.repeat(clock.now());
      metrics.begin(clock.now());
      return metrics.end(await runCollection(collector, clock, onResult, () => collector.collect(undefined, metrics)));
    });
    return () => {
      remove();
      collector.close?.();
    };
  }
  const metrics = new ProfileMetrics<string>(meter, naming, collector.metrics, enabled);
  metrics.series = series;
  const instruments = metrics.instrumentNames;
  const callback = async (result: BatchObservableResult): Promise<void> => {
    // Not observing leaves the SDK exporting the last values, and the observed series as they were.
    if (collector.due?.() === false) return;
    series?.begin(instruments);
    const ok = await runCollection(collector, clock, onResult, () => collector.collect(result, metrics));
    series?.end(instruments, ok);
  };
  meter.addBatchObservableCallback(callback, metrics.observables);
  return () => {
    meter.removeBatchObservableCallback(callback, metrics.observables);
    collector.close?.();
  };
}
