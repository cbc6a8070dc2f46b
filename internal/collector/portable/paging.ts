import type { BatchObservableResult } from '@opentelemetry/api';
import { mem } from 'systeminformation';
import type { Collector } from '../collector';
import { factory as procfs, metrics, pagingUsage } from '../families/paging';
import type { ProfileMetrics } from '../naming';
import type { PortableFactory } from '../registry';

// si.mem() knows the swap totals but not the devices; the total is reported as one device.
const ALL_SWAP = 'swap';

/**
 * Swap usage through si.mem() (Linux: /proc/meminfo; macOS: `sysctl vm.swapusage`). Paging
 * operations and faults are /proc/vmstat counters with no portable source: not reported.
 */
class PortablePagingCollector implements Collector {
  readonly name = 'paging';
  readonly metrics = metrics;

  enabled(key: string): boolean {
    return key === 'usage' || key === 'utilization';
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    const data = await mem();
    if (data.swaptotal <= 0) return;
    const device = { device: ALL_SWAP, type: 'total', sizeBytes: data.swaptotal, usedBytes: data.swapused, priority: 0 };
    // No SwapCached here: the hostmetrics `cached` state would be a made-up zero, so semconv states.
    for (const { state, bytes } of pagingUsage([device], 0, 'semconv')) {
      const attrs = { 'system.device': ALL_SWAP, 'system.paging.state': state };
      out.observe(result, 'usage', bytes, attrs);
      out.observe(result, 'utilization', bytes / data.swaptotal, attrs);
    }
  }
}

export const factory: PortableFactory = {
  name: procfs.name,
  enabled: procfs.enabled,
  unsupported: () => undefined,
  create: () => new PortablePagingCollector(),
};
