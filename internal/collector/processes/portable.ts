import type { BatchObservableResult } from '@opentelemetry/api';
import { processes } from 'systeminformation';
import { portableFactory, type Collector, type FamilyContext } from '../collector';
import { int, type MetricKey } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics } from './declaration';
import { processStateCounts } from './procfs';

/**
 * Process counts by state through si.processes() (macOS: `ps`; Windows: PowerShell), mapped to
 * kernel state letters so the procfs family's vocabulary serves both backends. si counts
 * running, sleeping and blocked; processes created since boot and the task limit have no portable source.
 */
class PortableProcessesCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  constructor(private readonly ctx: FamilyContext<undefined>) {}

  serves(key: MetricKey<typeof metrics>): boolean {
    return key === 'count';
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const data = await processes();
    const byCode = new Map([['R', data.running], ['S', data.sleeping], ['D', data.blocked]]);
    for (const [state, n] of processStateCounts(byCode, this.ctx.naming)) out.observe(result, 'count', int(n), { 'process.state': state });
  }
}

export const factory = portableFactory(
  family,
  (platform) => (platform === 'linux' ? 'si.processes runs ps on every call on Linux' : undefined),
  (ctx) => new PortableProcessesCollector(ctx),
);
