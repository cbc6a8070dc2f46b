import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import type { NamingProfile } from '../../config/types';
import { int } from '../declaration';
import type { MetricSink } from '../naming';
import { DETAILED_FIELDS, family, metrics, type MemorySettings } from './declaration';
import { memAvailable, readMeminfo, type Meminfo } from '../../procfs/meminfo';

/**
 * Usage by state, in the profile's vocabulary (semconv keys; `buffers` becomes `buffered` by
 * translation). Every state but semconv's `used` is the kernel's own figure, named as free(1)
 * names it: free = MemFree, buffers = Buffers, cached = Cached + SReclaimable (free(1)'s "cache"
 * column; the Collector's gopsutil counts reclaimable slab as cache too).
 *
 * semconv: used = MemTotal - MemAvailable, as the convention's note defines it (what cannot be
 * had back without swapping). The states then overlap (cache the kernel cannot drop, such as
 * tmpfs, is in used and in cached), so they do not sum to MemTotal; the conventions ask that
 * only of file system usage.
 */
export function memoryStates(m: Meminfo, profile: NamingProfile): Array<[string, number]> {
  const total = m.get('MemTotal') ?? 0;
  const free = m.get('MemFree') ?? 0;
  const buffers = m.get('Buffers') ?? 0;
  const sreclaimable = m.get('SReclaimable') ?? 0;
  const pageCache = (m.get('Cached') ?? 0) + sreclaimable;
  if (profile === 'semconv') {
    const available = Math.max(0, Math.min(total, memAvailable(m)));
    return [['used', total - available], ['free', free], ['cached', pageCache], ['buffers', buffers]];
  }
  // The Collector's states, valued as its gopsutil computes them (so that its dashboards read the
  // same numbers): used is what free, buffers and cache leave. used, free, buffers and cached sum
  // to total; the two slab states overlap cached and used.
  return [
    ['used', Math.max(0, total - free - buffers - pageCache)], ['free', free], ['buffers', buffers], ['cached', pageCache],
    ['slab_reclaimable', sreclaimable], ['slab_unreclaimable', m.get('SUnreclaim') ?? 0],
  ];
}

class MemoryCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  constructor(private readonly ctx: FamilyContext<MemorySettings>) {}

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    observeMeminfo(result, out, await readMeminfo(this.ctx.host), this.ctx.naming);
  }
}

/** Observes every memory metric from a meminfo map; the portable backend builds one from si. */
export function observeMeminfo(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>, m: Meminfo, profile: NamingProfile): void {
  const total = m.get('MemTotal') ?? 0;
  for (const [state, bytes] of memoryStates(m, profile)) {
    out.observe(result, 'usage', int(bytes), { 'system.memory.state': state });
    if (total > 0) out.observe(result, 'utilization', bytes / total, { 'system.memory.state': state });
  }
  out.observe(result, 'limit', int(total));
  out.observe(result, 'available', int(memAvailable(m)));
  const shmem = m.get('Shmem');
  if (shmem !== undefined) out.observe(result, 'shared', int(shmem));
  out.observe(result, 'slab', int(m.get('SReclaimable') ?? 0), { 'system.memory.linux.slab.state': 'reclaimable' });
  out.observe(result, 'slab', int(m.get('SUnreclaim') ?? 0), { 'system.memory.linux.slab.state': 'unreclaimable' });
  if (out.has('detail')) {
    for (const field of DETAILED_FIELDS) {
      const value = m.get(field);
      if (value !== undefined) out.observe(result, 'detail', int(value), { 'system.memory.linux.field': field });
    }
  }
}

export const factory = collectorFactory(family, (ctx) => new MemoryCollector(ctx));
