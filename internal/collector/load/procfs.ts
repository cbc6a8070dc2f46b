import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import type { MetricSink } from '../naming';
import { readLoadavg } from '../../procfs/loadavg';
import { family, metrics } from './declaration';

class LoadCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  constructor(private readonly ctx: FamilyContext<undefined>) {}

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const load = await readLoadavg(this.ctx.host);
    out.observe(result, 'load1', load.load1);
    out.observe(result, 'load5', load.load5);
    out.observe(result, 'load15', load.load15);
  }
}

export const factory = collectorFactory(family, (ctx) => new LoadCollector(ctx));
