import type { BatchObservableResult } from '@opentelemetry/api';
import type { Collector, CollectorContext, CollectorFactory } from '../collector';
import type { MetricDef, ProfileMetrics } from '../naming';
import { memAvailable, readMeminfo, type Meminfo } from '../../procfs/meminfo';

const metrics = {
  usage: { semconv: 'system.memory.usage', hostmetrics: 'system.memory.usage', kind: 'updowncounter', unit: 'By', description: 'Memory in use, by state.' },
  utilization: { semconv: 'system.memory.utilization', hostmetrics: 'system.memory.utilization', kind: 'gauge', unit: '1', description: 'Share of memory in each state.' },
  limit: { semconv: 'system.memory.limit', hostmetrics: 'system.memory.limit', kind: 'updowncounter', unit: 'By', description: 'Total memory available to the system.' },
  available: { semconv: 'system.memory.linux.available', hostmetrics: 'system.linux.memory.available', kind: 'updowncounter', unit: 'By', description: 'Memory available for starting new applications without swapping (MemAvailable).' },
  slab: { semconv: 'system.memory.linux.slab.usage', kind: 'updowncounter', unit: 'By', description: 'Kernel slab memory, by reclaimability.' },
  detail: { semconv: 'system.memory.linux.detail', hostmetrics: 'system.linux.memory.detail', kind: 'updowncounter', unit: 'By', description: 'Every /proc/meminfo field worth having, by field (detailed mode).' },
} satisfies Record<string, MetricDef>;

// Fields reported in detailed mode: the ones an operator debugging memory pressure asks for.
const DETAILED_FIELDS = [
  'Active', 'Inactive', 'Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)', 'Dirty', 'Writeback',
  'AnonPages', 'Mapped', 'Shmem', 'KernelStack', 'PageTables', 'CommitLimit', 'Committed_AS', 'HugePages_Total',
  'HugePages_Free', 'Hugepagesize', 'AnonHugePages', 'Mlocked', 'Unevictable', 'SwapCached',
];

/** Usage by state. semconv: used, free, cached, buffers. hostmetrics adds the slab states. */
export function memoryStates(m: Meminfo, profile: 'semconv' | 'hostmetrics'): Array<[string, number]> {
  const total = m.get('MemTotal') ?? 0;
  const free = m.get('MemFree') ?? 0;
  const buffers = m.get('Buffers') ?? 0;
  const cached = m.get('Cached') ?? 0;
  if (profile === 'semconv') {
    // used = MemTotal - MemAvailable (the honest figure); cached is what the kernel can reclaim
    // beyond free and buffers, so that the four states sum to system.memory.limit as semconv asks.
    const available = Math.min(total, memAvailable(m));
    const reclaimable = Math.max(0, available - free - buffers);
    return [['used', total - available], ['free', free], ['cached', reclaimable], ['buffers', Math.max(0, Math.min(buffers, available - free))]];
  }
  // The Collector's hostmetrics splits kernel slab out of "used" so that the states sum to total.
  const sreclaimable = m.get('SReclaimable') ?? 0;
  const sunreclaim = m.get('SUnreclaim') ?? 0;
  const legacyUsed = Math.max(0, total - free - buffers - cached - sreclaimable - sunreclaim);
  return [
    ['used', legacyUsed], ['free', free], ['buffers', buffers], ['cached', cached],
    ['slab_reclaimable', sreclaimable], ['slab_unreclaimable', sunreclaim],
  ];
}

class MemoryCollector implements Collector {
  readonly name = 'memory';
  readonly metrics = metrics;

  constructor(private readonly ctx: CollectorContext) {}

  enabled(key: string): boolean {
    const options = this.ctx.config.collectors.system.memory_options;
    if (key === 'detail') return options.detailed;
    if (key === 'utilization') return options.utilization;
    return true;
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    const m = await readMeminfo(this.ctx.host);
    const total = m.get('MemTotal') ?? 0;
    for (const [state, bytes] of memoryStates(m, this.ctx.naming)) {
      out.observe(result, 'usage', bytes, { 'system.memory.state': state });
      if (total > 0) out.observe(result, 'utilization', bytes / total, { 'system.memory.state': state });
    }
    out.observe(result, 'limit', total);
    out.observe(result, 'available', memAvailable(m));
    out.observe(result, 'slab', m.get('SReclaimable') ?? 0, { 'system.memory.linux.slab.state': 'reclaimable' });
    out.observe(result, 'slab', m.get('SUnreclaim') ?? 0, { 'system.memory.linux.slab.state': 'unreclaimable' });
    if (out.has('detail')) {
      for (const field of DETAILED_FIELDS) {
        const value = m.get(field);
        if (value !== undefined) out.observe(result, 'detail', value, { 'system.memory.linux.field': field });
      }
    }
  }
}

export const factory: CollectorFactory = {
  name: 'memory',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.memory,
  create: (ctx) => new MemoryCollector(ctx),
};
