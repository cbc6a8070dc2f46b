import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { int } from '../declaration';
import type { MetricSink } from '../naming';
import { readEntropy } from '../../procfs/entropy';
import { readFileNr } from '../../procfs/file-nr';
import { readStat } from '../../procfs/stat';
import { readUptime } from '../../procfs/uptime';
import { family, metrics } from './declaration';

/**
 * The value, or undefined when its file does not exist or may not be read (/proc/sys is masked
 * in some sandboxes). A file that exists but cannot be parsed still fails the collection.
 */
async function ifPresent<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return undefined;
    throw err;
  }
}

class SystemCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  constructor(private readonly ctx: FamilyContext<undefined>) {}

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const host = this.ctx.host;
    const [uptime, files, entropy, stat] = await Promise.all([readUptime(host), ifPresent(readFileNr(host)), ifPresent(readEntropy(host)), readStat(host)]);
    out.observe(result, 'uptime', uptime.uptime);
    if (files !== undefined) {
      out.observe(result, 'fileDescriptors', int(files.allocated - files.unused));
      out.observe(result, 'fileDescriptorLimit', int(files.max));
    }
    if (entropy !== undefined) out.observe(result, 'entropy', int(entropy));
    out.observe(result, 'contextSwitches', int(stat.contextSwitches));
    out.observe(result, 'interrupts', int(stat.interrupts), { 'system.linux.interrupt.type': 'hard' });
    if (stat.softInterrupts !== undefined) out.observe(result, 'interrupts', int(stat.softInterrupts), { 'system.linux.interrupt.type': 'soft' });
  }
}

export const factory = collectorFactory(family, (ctx) => new SystemCollector(ctx));
