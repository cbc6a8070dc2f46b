import type { BatchObservableResult } from '@opentelemetry/api';
import { processes } from 'systeminformation';
import type { Collector, CollectorContext } from '../collector';
import { factory as procfs, metrics, processStateCounts } from '../families/processes';
import type { ProfileMetrics } from '../naming';
import type { PortableFactory } from '../registry';

/**
 * Process counts by state through si.processes() (macOS: `ps`; Windows: PowerShell), mapped to
 * kernel state letters so the procfs family's vocabulary serves both backends. si counts
 * running, sleeping and blocked; processes created since boot has no portable source.
 */
class PortableProcessesCollector implements Collector {
  readonly name = 'processes';
  readonly metrics = metrics;

  constructor(private readonly ctx: CollectorContext) {}

  enabled(key: string): boolean {
    return key === 'count';
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    const data = await processes();
    const byCode = new Map([['R', data.running], ['S', data.sleeping], ['D', data.blocked]]);
    for (const [state, n] of processStateCounts(byCode, this.ctx.naming)) out.observe(result, 'count', n, { 'process.state': state });
  }
}

export const factory: PortableFactory = {
  name: procfs.name,
  enabled: procfs.enabled,
  unsupported: (platform) => (platform === 'linux' ? 'si.processes runs ps on every call on Linux' : undefined),
  create: (ctx) => new PortableProcessesCollector(ctx),
};
