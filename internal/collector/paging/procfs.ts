import type { BatchObservableResult } from '@opentelemetry/api';
import type { NamingProfile } from '../../config/types';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { int } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics } from './declaration';
import { readMeminfo } from '../../procfs/meminfo';
import { readSwaps, type SwapDevice } from '../../procfs/swaps';
import { readVmstat } from '../../procfs/vmstat';

export interface PagingUsage {
  device: string;
  state: string;
  bytes: number;
}

/**
 * Swap usage by device and state; the states of a device sum to its size. The Collector also
 * reports `cached` (SwapCached: swapped pages also in RAM, counted in "used" by /proc/swaps):
 * with one swap area it is split out of used; with several the kernel does not say which area
 * holds them, so it is not reported.
 */
export function pagingUsage(devices: SwapDevice[], swapCachedBytes: number, profile: NamingProfile): PagingUsage[] {
  const splitCached = profile === 'hostmetrics' && devices.length === 1;
  return devices.flatMap((d) => {
    const cached = splitCached ? Math.min(swapCachedBytes, d.usedBytes) : 0;
    const states: PagingUsage[] = [
      { device: d.device, state: 'used', bytes: d.usedBytes - cached },
      { device: d.device, state: 'free', bytes: Math.max(0, d.sizeBytes - d.usedBytes) },
    ];
    if (splitCached) states.push({ device: d.device, state: 'cached', bytes: cached });
    return states;
  });
}

// vmstat counters: swap-ins/outs are the major operations, page-ins/outs the minor ones, as in
// the Collector. pgfault counts every fault, major ones included.
const OPERATIONS: Array<[string, string, string]> = [
  ['pswpin', 'in', 'major'], ['pswpout', 'out', 'major'], ['pgpgin', 'in', 'minor'], ['pgpgout', 'out', 'minor'],
];

class PagingCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  constructor(private readonly ctx: FamilyContext<undefined>) {}

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const host = this.ctx.host;
    const wantsCached = this.ctx.naming === 'hostmetrics';
    const [devices, vmstat, meminfo] = await Promise.all([readSwaps(host), readVmstat(host), wantsCached ? readMeminfo(host) : undefined]);
    const sizes = new Map(devices.map((d) => [d.device, d.sizeBytes]));
    for (const { device, state, bytes } of pagingUsage(devices, meminfo?.get('SwapCached') ?? 0, this.ctx.naming)) {
      const attrs = { 'system.device': device, 'system.paging.state': state };
      out.observe(result, 'usage', int(bytes), attrs);
      const size = sizes.get(device)!;
      if (size > 0) out.observe(result, 'utilization', bytes / size, attrs);
    }
    for (const [counter, direction, type] of OPERATIONS) {
      const value = vmstat.get(counter);
      if (value !== undefined) out.observe(result, 'operations', int(value), { 'system.paging.direction': direction, 'system.paging.fault.type': type });
    }
    const all = vmstat.get('pgfault');
    const major = vmstat.get('pgmajfault');
    if (major !== undefined) out.observe(result, 'faults', int(major), { 'system.paging.fault.type': 'major' });
    if (all !== undefined && major !== undefined) out.observe(result, 'faults', int(all - major), { 'system.paging.fault.type': 'minor' });
  }
}

export const factory = collectorFactory(family, (ctx) => new PagingCollector(ctx));
