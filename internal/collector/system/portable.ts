import type { BatchObservableResult } from '@opentelemetry/api';
import { uptime } from 'node:os';
import { portableFactory, type Collector } from '../collector';
import type { MetricKey } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics } from './declaration';

/**
 * Uptime through Node's os.uptime(). si.time() is not used: on Linux it runs `date` in a shell
 * on every call. File descriptors, entropy, context switches and interrupts are Linux's
 * /proc figures with no portable source; the family reports uptime only.
 */
class PortableSystemCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  serves(key: MetricKey<typeof metrics>): boolean {
    return key === 'uptime';
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    out.observe(result, 'uptime', uptime());
  }
}

export const factory = portableFactory(family, () => undefined, () => new PortableSystemCollector());
