import type { BatchObservableResult, Meter } from '@opentelemetry/api';
import type { AgentConfig, NamingProfile } from '../config/types';
import { errorMessage, type Logger } from '../log/logger';
import type { Clock, HostFs } from '../procfs/host';
import { configuredSwitches, type Family, type MetricKey, type Metrics } from './declaration';
import { DirectMetrics, type DirectProducer } from './direct';
import { ProfileMetrics, type MetricSink } from './naming';
import type { ObservedSeries } from './series';

/** What a factory is handed to build a collector: where the host is, what time it is, the config. */
export interface CollectorContext {
  host: HostFs;
  clock: Clock;
  config: AgentConfig;
  naming: NamingProfile;
  logger: Logger;
}

/** What a collector is handed: the context without the config, and its own family's settings. */
export interface FamilyContext<S> {
  host: HostFs;
  clock: Clock;
  naming: NamingProfile;
  logger: Logger;
  settings: S;
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
 * One reader of a metric family (its procfs or its portable one). It reads its sources once per
 * collection, inside one batch callback, whatever the number of instruments: `collect` reads and
 * parses, then observes every value.
 */
export interface Collector<M extends Metrics = Metrics> {
  readonly name: string;
  /** The family's declared metrics; instruments are created from them. */
  readonly metrics: M;
  /** What the config turns on or off (set by the factory); a metric not here follows its declared default. */
  switches?: Partial<Record<MetricKey<M>, boolean>>;
  /** False for a metric this reader has no source for here (default: it has one for all). */
  serves?(key: MetricKey<M>): boolean;
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
  collect(result: BatchObservableResult | undefined, metrics: MetricSink<M>): Promise<void>;
  /** Release whatever the collector holds (timers, caches). */
  close?(): void;
}

/** A registry entry: the family, whether it runs under a config, and how to build its reader. */
export interface CollectorFactory {
  readonly name: string;
  readonly family: Family;
  enabled(config: AgentConfig): boolean;
  create(context: CollectorContext): Collector;
}

/** What a reader of `family` is given: the context with the family's settings instead of the config. */
export function familyContext<S>(family: Family<Metrics, S>, { host, clock, naming, logger, config }: CollectorContext): FamilyContext<S> {
  return { host, clock, naming, logger, settings: family.settings(config) };
}

/** The factory of one reader of `family`: the reader, with what the config switches of its metrics. */
export function collectorFactory<M extends Metrics, S>(family: Family<M, S>, build: (context: FamilyContext<S>) => Collector<M>): CollectorFactory {
  return {
    name: family.name,
    family,
    enabled: (config) => family.enabled(config),
    create: (context) => {
      const collector = build(familyContext(family, context));
      collector.switches = configuredSwitches(family, context.config, context.naming);
      return collector;
    },
  };
}

/** A portable (systeminformation) reader: it may be unable to serve some platforms. */
export interface PortableFactory extends CollectorFactory {
  /**
   * Why the family cannot run on `platform`, or undefined when it can. A family whose only
   * source there would spawn a process every cycle says so, rather than cost a fork per cycle.
   */
  unsupported(platform: NodeJS.Platform): string | undefined;
}

/** The factory of `family`'s portable reader. */
export function portableFactory<M extends Metrics, S>(
  family: Family<M, S>,
  unsupported: (platform: NodeJS.Platform) => string | undefined,
  build: (context: FamilyContext<S>) => Collector<M>,
): PortableFactory {
  return { ...collectorFactory(family, build), unsupported };
}

/** Whether `key` is reported: the reader has a source for it, and the settings or its default turn it on. */
function metricOn<M extends Metrics>(collector: Collector<M>, naming: NamingProfile): (key: MetricKey<M>) => boolean {
  return (key) => (collector.serves?.(key) ?? true) && (collector.switches?.[key] ?? collector.metrics[key].default[naming]);
}

/** Runs one collection, timed, and reports its outcome; true when it succeeded. */
async function runCollection(collector: { readonly name: string }, clock: Clock, onResult: (result: CollectionResult) => void, collect: () => Promise<void>): Promise<boolean> {
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
export function registerCollector<M extends Metrics>(
  meter: Meter,
  collector: Collector<M>,
  naming: NamingProfile,
  clock: Clock,
  onResult: (result: CollectionResult) => void,
  series?: ObservedSeries,
  direct?: DirectProducer,
): () => void {
  const enabled = metricOn(collector, naming);
  if (collector.direct === true && direct !== undefined) {
    const metrics = new DirectMetrics<M>(naming, collector.metrics, enabled);
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
  const metrics = new ProfileMetrics<M>(meter, naming, collector.metrics, enabled);
  metrics.series = series;
  const instruments = metrics.instrumentNames;
  const callback = async (result: BatchObservableResult): Promise<void> => {
    // Not observing leaves the SDK exporting the last values, and the observed series as they were.
    if (collector.due?.() === false) return;
    metrics.beginCollection();
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
