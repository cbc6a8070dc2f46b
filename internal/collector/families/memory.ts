import type { BatchObservableResult } from '@opentelemetry/api';
import type { Collector, CollectorContext, CollectorFactory } from '../collector';
import type { AgentConfig, NamingProfile } from '../../config/types';
import type { MetricDef, ProfileMetrics } from '../naming';
import { memAvailable, readMeminfo, type Meminfo } from '../../procfs/meminfo';

export const metrics = {
  usage: { semconv: 'system.memory.usage', hostmetrics: 'system.memory.usage', kind: 'updowncounter', unit: 'By', description: 'Memory in use, by state.' },
  utilization: { semconv: 'system.memory.utilization', hostmetrics: 'system.memory.utilization', kind: 'gauge', unit: '1', description: 'Share of memory in each state.' },
  limit: { semconv: 'system.memory.limit', hostmetrics: 'system.memory.limit', kind: 'updowncounter', unit: 'By', description: 'Total memory available to the system.' },
  available: { semconv: 'system.memory.linux.available', hostmetrics: 'system.linux.memory.available', kind: 'updowncounter', unit: 'By', description: 'Memory available for starting new applications without swapping (MemAvailable).' },
  shared: { semconv: 'system.memory.linux.shared', kind: 'updowncounter', unit: 'By', description: 'Shared memory, mostly tmpfs (Shmem).' },
  slab: { semconv: 'system.memory.linux.slab.usage', kind: 'updowncounter', unit: 'By', description: 'Kernel slab memory, by reclaimability.' },
  detail: { semconv: 'system.memory.linux.detail', hostmetrics: 'system.linux.memory.detail', kind: 'updowncounter', unit: 'By', description: 'Every /proc/meminfo field worth having, by field (detailed mode).' },
} satisfies Record<string, MetricDef>;

// Fields reported in detailed mode: the ones an operator debugging memory pressure asks for.
// All are sizes (kB in the file, bytes here); the HugePages_* page counts are not.
const DETAILED_FIELDS = [
  'Active', 'Inactive', 'Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)', 'Dirty', 'Writeback',
  'AnonPages', 'Mapped', 'Shmem', 'KernelStack', 'PageTables', 'CommitLimit', 'Committed_AS', 'AnonHugePages',
  'Mlocked', 'Unevictable', 'SwapCached', 'SwapTotal', 'SwapFree',
];

/**
 * Usage by state, in the profile's vocabulary (semconv keys; `buffers` becomes `buffered` by
 * translation). Under semconv the states sum to MemTotal (system.memory.limit).
 *
 * semconv: used = MemTotal - MemAvailable, as the spec asks (the honest figure: what cannot be
 * had back without swapping). The available part is then split into free, buffers and cached,
 * where cached is the rest of what the kernel can reclaim (page cache, reclaimable slab, …).
 * MemAvailable can be below MemFree (watermark reserves), so free and buffers are capped by it.
 */
export function memoryStates(m: Meminfo, profile: NamingProfile): Array<[string, number]> {
  const total = m.get('MemTotal') ?? 0;
  const free = m.get('MemFree') ?? 0;
  const buffers = m.get('Buffers') ?? 0;
  const cached = m.get('Cached') ?? 0;
  if (profile === 'semconv') {
    const available = Math.max(0, Math.min(total, memAvailable(m)));
    const freeShare = Math.min(free, available);
    const buffersShare = Math.min(buffers, available - freeShare);
    return [['used', total - available], ['free', freeShare], ['cached', available - freeShare - buffersShare], ['buffers', buffersShare]];
  }
  // The Collector's states, valued as its gopsutil computes them (so that its dashboards read the
  // same numbers): cached includes reclaimable slab, as in free(1), and used is the rest. used,
  // free, buffers and cached sum to total; the two slab states overlap cached and used.
  const sreclaimable = m.get('SReclaimable') ?? 0;
  const pageCache = cached + sreclaimable;
  return [
    ['used', Math.max(0, total - free - buffers - pageCache)], ['free', free], ['buffers', buffers], ['cached', pageCache],
    ['slab_reclaimable', sreclaimable], ['slab_unreclaimable', m.get('SUnreclaim') ?? 0],
  ];
}

/** Which memory metrics the config turns on (detail and utilization are switchable). */
export function memoryMetricEnabled(config: AgentConfig, key: string): boolean {
  const options = config.collectors.system.memory_options;
  if (key === 'detail') return options.detailed;
  if (key === 'utilization') return options.utilization;
  return true;
}

class MemoryCollector implements Collector {
  readonly name = 'memory';
  readonly metrics = metrics;

  constructor(private readonly ctx: CollectorContext) {}

  enabled(key: string): boolean {
    return memoryMetricEnabled(this.ctx.config, key);
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    observeMeminfo(result, out, await readMeminfo(this.ctx.host), this.ctx.naming);
  }
}

/** Observes every memory metric from a meminfo map; the portable backend builds one from si. */
export function observeMeminfo(result: BatchObservableResult, out: ProfileMetrics<string>, m: Meminfo, profile: NamingProfile): void {
  const total = m.get('MemTotal') ?? 0;
  for (const [state, bytes] of memoryStates(m, profile)) {
    out.observe(result, 'usage', bytes, { 'system.memory.state': state });
    if (total > 0) out.observe(result, 'utilization', bytes / total, { 'system.memory.state': state });
  }
  out.observe(result, 'limit', total);
  out.observe(result, 'available', memAvailable(m));
  const shmem = m.get('Shmem');
  if (shmem !== undefined) out.observe(result, 'shared', shmem);
  out.observe(result, 'slab', m.get('SReclaimable') ?? 0, { 'system.memory.linux.slab.state': 'reclaimable' });
  out.observe(result, 'slab', m.get('SUnreclaim') ?? 0, { 'system.memory.linux.slab.state': 'unreclaimable' });
  if (out.has('detail')) {
    for (const field of DETAILED_FIELDS) {
      const value = m.get(field);
      if (value !== undefined) out.observe(result, 'detail', value, { 'system.memory.linux.field': field });
    }
  }
}

export const factory: CollectorFactory = {
  name: 'memory',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.memory,
  create: (ctx) => new MemoryCollector(ctx),
};
