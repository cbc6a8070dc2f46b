import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import type { MetricSink } from '../naming';
import { readPressure } from '../../procfs/pressure';
import { family, metrics } from './declaration';

class PressureCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  constructor(private readonly ctx: FamilyContext<undefined>) {}

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
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

export const factory = collectorFactory(family, (ctx) => new PressureCollector(ctx));
