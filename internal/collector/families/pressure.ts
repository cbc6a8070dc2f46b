import type { BatchObservableResult } from '@opentelemetry/api';
import type { Collector, CollectorContext, CollectorFactory } from '../collector';
import type { MetricDef, ProfileMetrics } from '../naming';
import { readPressure } from '../../procfs/pressure';

// PSI is not in a released semconv (proposals use system.linux.pressure.stall_type) nor in the
// Collector: a tfo-agent extension, one name in both profiles.
export const metrics = {
  stallTime: { semconv: 'system.linux.pressure.stall_time', hostmetrics: 'system.linux.pressure.stall_time', kind: 'counter', unit: 's', description: 'Time tasks were stalled waiting for a resource (PSI total), by resource and stall type.' },
} satisfies Record<string, MetricDef>;

class PressureCollector implements Collector {
  readonly name = 'pressure';
  readonly metrics = metrics;

  constructor(private readonly ctx: CollectorContext) {}

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    // Kernels without PSI have no files: nothing to report, and nothing wrong.
    for (const [resource, pressure] of await readPressure(this.ctx.host)) {
      for (const type of ['some', 'full'] as const) {
        const line = pressure[type];
        // System-wide cpu "full" is undefined and printed as zeros since 5.13: not a measurement.
        if (line === undefined || (resource === 'cpu' && type === 'full')) continue;
        out.observe(result, 'stallTime', line.totalSeconds, { 'system.linux.pressure.resource': resource, 'system.linux.pressure.stall_type': type });
      }
    }
  }
}

export const factory: CollectorFactory = {
  name: 'pressure',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.pressure,
  create: (ctx) => new PressureCollector(ctx),
};
