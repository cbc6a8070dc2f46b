import type { BatchObservableResult } from '@opentelemetry/api';
import type { Collector, CollectorContext, CollectorFactory } from '../collector';
import type { MetricDef, ProfileMetrics } from '../naming';
import { readEntropy } from '../../procfs/entropy';
import { readFileNr } from '../../procfs/file-nr';
import { readStat } from '../../procfs/stat';
import { readUptime } from '../../procfs/uptime';

// Only system.uptime is in semconv; the rest are tfo-agent extensions under system.linux.*
// (documented in docs/METRICS.md), the same in both profiles since the Collector has none.
export const metrics = {
  uptime: { semconv: 'system.uptime', hostmetrics: 'system.uptime', kind: 'gauge', unit: 's', description: 'Seconds since the system booted.' },
  fileDescriptors: { semconv: 'system.linux.file_descriptor.count', hostmetrics: 'system.linux.file_descriptor.count', kind: 'updowncounter', unit: '{file_descriptor}', description: 'File handles in use system-wide (allocated minus unused, /proc/sys/fs/file-nr).' },
  fileDescriptorLimit: { semconv: 'system.linux.file_descriptor.limit', hostmetrics: 'system.linux.file_descriptor.limit', kind: 'updowncounter', unit: '{file_descriptor}', description: 'System-wide maximum of file handles (fs.file-max).' },
  entropy: { semconv: 'system.linux.entropy.available', hostmetrics: 'system.linux.entropy.available', kind: 'gauge', unit: '{bit}', description: 'Entropy available in the kernel input pool.' },
  contextSwitches: { semconv: 'system.linux.context_switch.count', hostmetrics: 'system.linux.context_switch.count', kind: 'counter', unit: '{context_switch}', description: 'Context switches since boot.' },
  interrupts: { semconv: 'system.linux.interrupt.count', hostmetrics: 'system.linux.interrupt.count', kind: 'counter', unit: '{interrupt}', description: 'Interrupts serviced since boot, by type (hard, soft).' },
} satisfies Record<string, MetricDef>;

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

class SystemCollector implements Collector {
  readonly name = 'system';
  readonly metrics = metrics;

  constructor(private readonly ctx: CollectorContext) {}

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    const host = this.ctx.host;
    const [uptime, files, entropy, stat] = await Promise.all([readUptime(host), ifPresent(readFileNr(host)), ifPresent(readEntropy(host)), readStat(host)]);
    out.observe(result, 'uptime', uptime.uptime);
    if (files !== undefined) {
      out.observe(result, 'fileDescriptors', files.allocated - files.unused);
      out.observe(result, 'fileDescriptorLimit', files.max);
    }
    if (entropy !== undefined) out.observe(result, 'entropy', entropy);
    out.observe(result, 'contextSwitches', stat.contextSwitches);
    out.observe(result, 'interrupts', stat.interrupts, { 'system.linux.interrupt.type': 'hard' });
    if (stat.softInterrupts !== undefined) out.observe(result, 'interrupts', stat.softInterrupts, { 'system.linux.interrupt.type': 'soft' });
  }
}

export const factory: CollectorFactory = {
  name: 'system',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.system,
  create: (ctx) => new SystemCollector(ctx),
};
