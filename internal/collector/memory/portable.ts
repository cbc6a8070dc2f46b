import type { BatchObservableResult } from '@opentelemetry/api';
import { mem, type Systeminformation } from 'systeminformation';
import { portableFactory, type Collector, type FamilyContext } from '../collector';
import type { MetricKey } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics, type MemorySettings } from './declaration';
import { observeMeminfo } from './procfs';
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
class PortableMemoryCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  constructor(private readonly ctx: FamilyContext<MemorySettings>) {}

  serves(key: MetricKey<typeof metrics>): boolean {
    // Detailed mode lists /proc/meminfo fields, which only procfs has; slab is Linux's alone.
    if (key === 'detail') return false;
    return key !== 'slab' || process.platform === 'linux';
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    observeMeminfo(result, out, meminfoFromSi(await mem()), this.ctx.naming);
  }
}

export const factory = portableFactory(family, () => undefined, (ctx) => new PortableMemoryCollector(ctx));
