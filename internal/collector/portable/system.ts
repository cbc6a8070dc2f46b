import type { BatchObservableResult } from '@opentelemetry/api';
import { uptime } from 'node:os';
import type { Collector } from '../collector';
import { factory as procfs, metrics } from '../families/system';
import type { ProfileMetrics } from '../naming';
import type { PortableFactory } from '../registry';

/**
 * Uptime through Node's os.uptime(). si.time() is not used: on Linux it runs `date` in a shell
 * on every call. File descriptors, entropy, context switches and interrupts are Linux's
 * /proc figures with no portable source; the family reports uptime only.
 */
class PortableSystemCollector implements Collector {
  readonly name = 'system';
  readonly metrics = metrics;

  enabled(key: string): boolean {
    return key === 'uptime';
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    out.observe(result, 'uptime', uptime());
  }
}

export const factory: PortableFactory = {
  name: procfs.name,
  enabled: procfs.enabled,
  unsupported: () => undefined,
  create: () => new PortableSystemCollector(),
};
