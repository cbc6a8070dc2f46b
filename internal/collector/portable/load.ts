import type { BatchObservableResult } from '@opentelemetry/api';
import { loadavg } from 'node:os';
import type { Collector } from '../collector';
import { factory as procfs, metrics } from '../families/load';
import type { ProfileMetrics } from '../naming';
import type { PortableFactory } from '../registry';

/** Load averages through Node's os.loadavg() (the sysinfo/getloadavg call; nothing spawned). */
class PortableLoadCollector implements Collector {
  readonly name = 'load';
  readonly metrics = metrics;

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    const [load1, load5, load15] = loadavg();
    out.observe(result, 'load1', load1);
    out.observe(result, 'load5', load5);
    out.observe(result, 'load15', load15);
  }
}

export const factory: PortableFactory = {
  name: procfs.name,
  enabled: procfs.enabled,
  // os.loadavg() is always [0, 0, 0] there: no value beats a wrong one.
  unsupported: (platform) => (platform === 'win32' ? 'Windows has no load average' : undefined),
  create: () => new PortableLoadCollector(),
};
