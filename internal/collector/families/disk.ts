import type { BatchObservableResult } from '@opentelemetry/api';
import type { Collector, CollectorContext, CollectorFactory } from '../collector';
import { NameFilter } from '../match';
import type { MetricDef, ProfileMetrics } from '../naming';
import { classifyBlockDevice, readWholeDisks, type BlockDeviceKind } from '../../procfs/block';
import { DISKSTATS_SECTOR_BYTES, readDiskstats, type DiskStat } from '../../procfs/diskstats';
import type { SystemCollectorsConfig } from '../../config/types';

export const metrics = {
  io: { semconv: 'system.disk.io', hostmetrics: 'system.disk.io', kind: 'counter', unit: 'By', description: 'Bytes read from and written to the disk.' },
  operations: { semconv: 'system.disk.operations', hostmetrics: 'system.disk.operations', kind: 'counter', unit: '{operation}', description: 'Read and write operations completed.' },
  ioTime: { semconv: 'system.disk.io_time', hostmetrics: 'system.disk.io_time', kind: 'counter', unit: 's', description: 'Time the disk had at least one request in flight.' },
  operationTime: { semconv: 'system.disk.operation_time', hostmetrics: 'system.disk.operation_time', kind: 'counter', unit: 's', description: 'Time spent on completed reads and writes, summed over requests.' },
  merged: { semconv: 'system.disk.merged', hostmetrics: 'system.disk.merged', kind: 'counter', unit: '{operation}', description: 'Adjacent requests merged into one before reaching the disk.' },
  weightedIoTime: { hostmetrics: 'system.disk.weighted_io_time', kind: 'counter', unit: 's', description: 'Request time in flight weighted by the number of requests in flight.' },
  pendingOperations: { hostmetrics: 'system.disk.pending_operations', kind: 'updowncounter', unit: '{operation}', description: 'Requests in flight now.' },
} satisfies Record<string, MetricDef>;

export type DiskMetric = keyof typeof metrics;

/** One observation: metric key, value and the semconv attributes beside `system.device`. */
export type DiskPoint = [DiskMetric, number, Record<string, string>?];

const READ = { 'disk.io.direction': 'read' };
const WRITE = { 'disk.io.direction': 'write' };

/** The points of one device's counters; the portable backend builds a DiskStat and reuses this. */
export function diskPoints(d: DiskStat): DiskPoint[] {
  return [
    ['io', d.sectorsRead * DISKSTATS_SECTOR_BYTES, READ],
    ['io', d.sectorsWritten * DISKSTATS_SECTOR_BYTES, WRITE],
    ['operations', d.readsCompleted, READ],
    ['operations', d.writesCompleted, WRITE],
    ['ioTime', d.ioTimeMs / 1000],
    ['operationTime', d.readTimeMs / 1000, READ],
    ['operationTime', d.writeTimeMs / 1000, WRITE],
    ['merged', d.readsMerged, READ],
    ['merged', d.writesMerged, WRITE],
    ['weightedIoTime', d.weightedIoTimeMs / 1000],
    ['pendingOperations', d.ioInProgress],
  ];
}

/**
 * Which devices are reported: physical disks only unless asked. Partitions, loop, ram and zram
 * never (their I/O is the disk's, or memory's); dm-* and md* only with include_virtual, since
 * they count again the I/O of the disks beneath them. Then the include/exclude names.
 */
export class DeviceSelector {
  private readonly filter: NameFilter;

  constructor(private readonly options: SystemCollectorsConfig['disk_options']) {
    this.filter = NameFilter.of('collectors.system.disk_options', options);
  }

  accepts(name: string, kind: BlockDeviceKind): boolean {
    const wanted = kind === 'disk' || ((kind === 'dm' || kind === 'md') && this.options.include_virtual);
    return wanted && this.filter.accepts(name);
  }
}

export class DiskCollector implements Collector {
  readonly name = 'disk';
  readonly metrics = metrics;
  private readonly selector: DeviceSelector;
  // Device name -> reported or not. Classifying reads /sys/block, so it is redone on the slow
  // refresh schedule, or at once when /proc/diskstats shows a name never seen (a hot-plugged disk).
  private readonly reported = new Map<string, boolean>();
  private refreshedAt = Number.NEGATIVE_INFINITY;
  /** How many times the device list has been rebuilt (for tests and self-metrics). */
  refreshes = 0;

  constructor(private readonly ctx: CollectorContext) {
    this.selector = new DeviceSelector(ctx.config.collectors.system.disk_options);
  }

  private async refreshDevices(stats: DiskStat[]): Promise<void> {
    const wholeDisks = await readWholeDisks(this.ctx.host);
    this.reported.clear();
    for (const { name } of stats) this.reported.set(name, this.selector.accepts(name, classifyBlockDevice(name, wholeDisks)));
    this.refreshedAt = this.ctx.clock.monotonic();
    this.refreshes += 1;
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    const stats = await readDiskstats(this.ctx.host);
    const due = this.ctx.clock.monotonic() - this.refreshedAt >= this.ctx.config.collectors.system.disk_options.refresh_interval;
    if (due || stats.some((d) => !this.reported.has(d.name))) await this.refreshDevices(stats);
    for (const d of stats) {
      if (this.reported.get(d.name) !== true) continue;
      for (const [key, value, attrs] of diskPoints(d)) out.observe(result, key, value, { 'system.device': d.name, ...attrs });
    }
  }
}

export const factory: CollectorFactory = {
  name: 'disk',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.disk,
  create: (ctx) => new DiskCollector(ctx),
};
