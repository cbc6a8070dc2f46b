import type { BatchObservableResult } from '@opentelemetry/api';
import { mem, type Systeminformation } from 'systeminformation';
import type { Collector, CollectorContext } from '../collector';
import { factory as procfs, memoryMetricEnabled, metrics, observeMeminfo } from '../families/memory';
import type { ProfileMetrics } from '../naming';
import type { PortableFactory } from '../registry';
import type { Meminfo } from '../../procfs/meminfo';

/**
 * systeminformation's memory figures as a /proc/meminfo map, so the procfs family's state
 * arithmetic (memoryStates) serves both backends. Only the fields si provides are set.
 */
export function meminfoFromSi(data: Systeminformation.MemData): Meminfo {
  const fields: Meminfo = new Map([
    ['MemTotal', data.total],
    ['MemFree', data.free],
    ['MemAvailable', data.available],
    ['Buffers', data.buffers],
    ['Cached', data.cached],
    ['SwapTotal', data.swaptotal],
    ['SwapFree', data.swapfree],
  ]);
  if (data.slab > 0) {
    fields.set('SReclaimable', data.reclaimable);
    fields.set('SUnreclaim', Math.max(0, data.slab - data.reclaimable));
  }
  if (data.dirty !== null) fields.set('Dirty', data.dirty);
  if (data.writeback !== null) fields.set('Writeback', data.writeback);
  return fields;
}

/** Memory through si.mem() (Linux: reads /proc/meminfo; macOS: vm_stat + sysctl). */
class PortableMemoryCollector implements Collector {
  readonly name = 'memory';
  readonly metrics = metrics;

  constructor(private readonly ctx: CollectorContext) {}

  enabled(key: string): boolean {
    // Detailed mode lists /proc/meminfo fields, which only procfs has; slab is Linux's alone.
    if (key === 'detail') return false;
    if (key === 'slab') return process.platform === 'linux';
    return memoryMetricEnabled(this.ctx.config, key);
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    observeMeminfo(result, out, meminfoFromSi(await mem()), this.ctx.naming);
  }
}

export const factory: PortableFactory = {
  name: procfs.name,
  enabled: procfs.enabled,
  unsupported: () => undefined,
  create: (ctx) => new PortableMemoryCollector(ctx),
};
