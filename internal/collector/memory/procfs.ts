import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import type { NamingProfile } from '../../config/types';
import { int } from '../declaration';
import type { MetricSink } from '../naming';
import { DETAILED_FIELDS, family, metrics, type MemorySettings } from './declaration';
import { memAvailable, readMeminfo, type Meminfo } from '../../procfs/meminfo';

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
