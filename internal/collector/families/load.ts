import type { BatchObservableResult } from '@opentelemetry/api';
import type { Collector, CollectorContext, CollectorFactory } from '../collector';
import type { MetricDef, ProfileMetrics } from '../naming';
import { readLoadavg } from '../../procfs/loadavg';

// Not in semconv; the Collector's names are what every dashboard uses, so both profiles share them.
export const metrics = {
  load1: { semconv: 'system.cpu.load_average.1m', hostmetrics: 'system.cpu.load_average.1m', kind: 'gauge', unit: '{thread}', description: 'Load average over 1 minute.' },
  load5: { semconv: 'system.cpu.load_average.5m', hostmetrics: 'system.cpu.load_average.5m', kind: 'gauge', unit: '{thread}', description: 'Load average over 5 minutes.' },
  load15: { semconv: 'system.cpu.load_average.15m', hostmetrics: 'system.cpu.load_average.15m', kind: 'gauge', unit: '{thread}', description: 'Load average over 15 minutes.' },
} satisfies Record<string, MetricDef>;

class LoadCollector implements Collector {
  readonly name = 'load';
  readonly metrics = metrics;

  constructor(private readonly ctx: CollectorContext) {}

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    const load = await readLoadavg(this.ctx.host);
    out.observe(result, 'load1', load.load1);
    out.observe(result, 'load5', load.load5);
    out.observe(result, 'load15', load.load15);
  }
}

export const factory: CollectorFactory = {
  name: 'load',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.load,
  create: (ctx) => new LoadCollector(ctx),
};
