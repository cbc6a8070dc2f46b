import type { BatchObservableResult } from '@opentelemetry/api';
import { loadavg } from 'node:os';
import { portableFactory, type Collector } from '../collector';
import type { MetricSink } from '../naming';
import { family, metrics } from './declaration';

/** Load averages through Node's os.loadavg() (the sysinfo/getloadavg call; nothing spawned). */
class PortableLoadCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const [load1, load5, load15] = loadavg();
    out.observe(result, 'load1', load1);
    out.observe(result, 'load5', load5);
    out.observe(result, 'load15', load15);
  }
}

export const factory = portableFactory(
  family,
  // os.loadavg() is always [0, 0, 0] there: no value beats a wrong one.
  (platform) => (platform === 'win32' ? 'Windows has no load average' : undefined),
  () => new PortableLoadCollector(),
);
