import type { BatchObservableResult } from '@opentelemetry/api';
import { mem } from 'systeminformation';
import { portableFactory, type Collector } from '../collector';
import { int, type MetricKey } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics } from './declaration';
import { pagingUsage } from './procfs';

// si.mem() knows the swap totals but not the devices; the total is reported as one device.
const ALL_SWAP = 'swap';

/**
 * Swap usage through si.mem() (Linux: /proc/meminfo; macOS: `sysctl vm.swapusage`). Paging
 * operations and faults are /proc/vmstat counters with no portable source: not reported.
 */
class PortablePagingCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  serves(key: MetricKey<typeof metrics>): boolean {
    return key === 'usage' || key === 'utilization';
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const data = await mem();
    if (data.swaptotal <= 0) return;
    const device = { device: ALL_SWAP, type: 'total', sizeBytes: data.swaptotal, usedBytes: data.swapused, priority: 0 };
    // No SwapCached here: the hostmetrics `cached` state would be a made-up zero, so semconv states.
    for (const { state, bytes } of pagingUsage([device], 0, 'semconv')) {
      const attrs = { 'system.device': ALL_SWAP, 'system.paging.state': state };
      out.observe(result, 'usage', int(bytes), attrs);
      out.observe(result, 'utilization', bytes / data.swaptotal, attrs);
    }
  }
}

export const factory = portableFactory(family, () => undefined, () => new PortablePagingCollector());
