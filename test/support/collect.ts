import type { Attributes, HrTime } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { buildResource, readHostFacts, resourceAttributes } from '../../internal/agent/resource';
import { registerCollector, type CollectionResult, type Collector, type CollectorContext, type CollectorFactory } from '../../internal/collector/collector';
import { DirectProducer } from '../../internal/collector/direct';
import { enabledFactories } from '../../internal/collector/registry';
import { HostFs, systemClock, type Clock } from '../../internal/procfs/host';
import type { InstrumentKind } from '../../internal/collector/declaration';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig, NamingProfile } from '../../internal/config/types';
import { silentLogger } from '../../internal/log/logger';

/** A reader the test drives: nothing is exported, `collect()` runs the callbacks on demand. */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type ConfigOverrides = DeepPartial<AgentConfig>;

export interface CollectOptions {
  /** The fake (or real) host root; default `/`. */
  hostRoot?: string;
  /** Merged over defaultConfig(); arrays replace, objects merge. */
  config?: ConfigOverrides;
  /** Default semconv; also written to collectors.system.naming. */
  naming?: NamingProfile;
  /** Default the system clock. */
  clock?: Clock;
  /** By default a failed collection throws; set to inspect `results` instead. */
  allowFailure?: boolean;
}

export interface CollectedPoint {
  attributes: Attributes;
  value: number;
  startTime: HrTime;
  endTime: HrTime;
}

export interface CollectedMetric {
  name: string;
  unit: string;
  description: string;
  kind: InstrumentKind;
  points: CollectedPoint[];
}

/** One collection: every metric by exported name, plus what the collector reported. */
export class Collection {
  constructor(readonly metrics: Map<string, CollectedMetric>, readonly results: CollectionResult[]) {}

  get names(): string[] {
    return [...this.metrics.keys()].sort();
  }

  has(name: string): boolean {
    return this.metrics.has(name);
  }

  /** The metric, or an error listing what was collected instead. */
  get(name: string): CollectedMetric {
    const metric = this.metrics.get(name);
    if (metric === undefined) throw new Error(`metric ${name} not collected; got: ${this.names.join(', ')}`);
    return metric;
  }

  /** Points of `name` whose attributes include every entry of `match`. */
  points(name: string, match: Attributes = {}): CollectedPoint[] {
    return this.get(name).points.filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  }

  /** The single point of `name` matching `match`; throws when there is not exactly one. */
  point(name: string, match: Attributes = {}): CollectedPoint {
    const found = this.points(name, match);
    if (found.length !== 1) {
      throw new Error(`${name} ${JSON.stringify(match)}: expected one point, found ${found.length}: ${JSON.stringify(this.get(name).points.map((p) => p.attributes))}`);
    }
    return found[0];
  }

  value(name: string, match: Attributes = {}): number {
    return this.point(name, match).value;
  }
}

/** A collector registered on its own MeterProvider, collected as often as the test likes. */
export interface CollectSession {
  readonly collector: Collector;
  readonly context: CollectorContext;
  collect(): Promise<Collection>;
  shutdown(): Promise<void>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeInto(target: Record<string, unknown>, overrides: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const current = target[key];
    if (isObject(current) && isObject(value)) mergeInto(current, value);
    else target[key] = value;
  }
}

/** defaultConfig() with `overrides` merged over it. */
export function testConfig(overrides: ConfigOverrides = {}, naming?: NamingProfile): AgentConfig {
  const config = defaultConfig();
  mergeInto(config as unknown as Record<string, unknown>, overrides as Record<string, unknown>);
  if (naming !== undefined) config.collectors.system.naming = naming;
  return config;
}

function kindOf(dataPointType: DataPointType, isMonotonic: boolean | undefined): InstrumentKind {
  if (dataPointType === DataPointType.GAUGE) return 'gauge';
  if (dataPointType === DataPointType.SUM) return isMonotonic ? 'counter' : 'updowncounter';
  throw new Error(`unexpected data point type ${dataPointType}`);
}

/**
 * Builds the collector from a factory (or takes a ready one), registers it through
 * registerCollector on a fresh MeterProvider, and returns a session to collect on demand.
 */
export function startCollecting(source: CollectorFactory | Collector | ((ctx: CollectorContext) => Collector), options: CollectOptions = {}): CollectSession {
  const config = testConfig(options.config, options.naming);
  if (options.hostRoot !== undefined) config.host_root = options.hostRoot;
  const clock = options.clock ?? systemClock;
  const context: CollectorContext = {
    host: new HostFs(config.host_root),
    clock,
    config,
    naming: config.collectors.system.naming,
    logger: silentLogger(),
  };
  const collector =
    typeof source === 'function' ? source(context) : 'create' in source ? source.create(context) : source;
  const direct = new DirectProducer();
  const reader = new OnDemandReader({ metricProducers: [direct] });
  const provider = new MeterProvider({ readers: [reader] });
  const results: CollectionResult[] = [];
  const unregister = registerCollector(provider.getMeter('tfo-agent-test'), collector, context.naming, clock, (r) => results.push(r), undefined, direct);
  return {
    collector,
    context,
    async collect(): Promise<Collection> {
      results.length = 0;
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`collection errors: ${errors.map(String).join('; ')}`);
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0 && !options.allowFailure) {
        throw new Error(`collector ${collector.name} failed: ${failed.map((r) => r.error).join('; ')}`);
      }
      const metrics = new Map<string, CollectedMetric>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.dataPointType !== DataPointType.GAUGE && metric.dataPointType !== DataPointType.SUM) continue;
          metrics.set(metric.descriptor.name, {
            name: metric.descriptor.name,
            unit: metric.descriptor.unit,
            description: metric.descriptor.description,
            kind: kindOf(metric.dataPointType, metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : undefined),
            points: metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value, startTime: p.startTime, endTime: p.endTime })),
          });
        }
      }
      return new Collection(metrics, [...results]);
    },
    async shutdown(): Promise<void> {
      unregister();
      await provider.shutdown();
    },
  };
}

/** One collection from a fresh session, shut down afterwards. */
export async function collectOnce(source: CollectorFactory | Collector | ((ctx: CollectorContext) => Collector), options: CollectOptions = {}): Promise<Collection> {
  const session = startCollecting(source, options);
  try {
    return await session.collect();
  } finally {
    await session.shutdown();
  }
}

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private wallMs = Date.UTC(2026, 10, 22), private monoMs = 1_000) {}

  now(): number {
    return this.wallMs;
  }

  monotonic(): number {
    return this.monoMs;
  }

  advance(ms: number): void {
    this.wallMs += ms;
    this.monoMs += ms;
  }
}

/** Every family `config` enables, reading this machine, on one MeterProvider with the agent's resource, collected on demand. */
export async function collectEveryFamily(config: AgentConfig, naming: NamingProfile): Promise<{ collect: () => Promise<ResourceMetrics>; shutdown: () => Promise<void> }> {
  const host = new HostFs('/');
  const direct = new DirectProducer();
  const reader = new OnDemandReader({ metricProducers: [direct] });
  const resource = buildResource(resourceAttributes(config, 'agent-1', await readHostFacts(host), {}));
  const provider = new MeterProvider({ resource, readers: [reader] });
  for (const factory of enabledFactories(config)) {
    const collector = factory.create({ host, clock: systemClock, config, naming, logger: silentLogger() });
    registerCollector(provider.getMeter('tfo-agent'), collector, naming, systemClock, () => undefined, undefined, direct);
  }
  return { collect: async () => (await reader.collect()).resourceMetrics, shutdown: () => provider.shutdown() };
}
