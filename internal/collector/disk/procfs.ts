import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { int, type Observation } from '../declaration';
import { NameFilter } from '../match';
import type { MetricSink } from '../naming';
import { classifyBlockDevice, readWholeDisks, type BlockDeviceKind } from '../../procfs/block';
import { DISKSTATS_SECTOR_BYTES, readDiskstats, type DiskStat } from '../../procfs/diskstats';
import { family, metrics, type DiskSettings } from './declaration';

/** One observation: metric key, value and the semconv attributes beside `system.device`. */
export type DiskPoint = Observation<typeof metrics, Record<string, string>>;

const READ = { 'disk.io.direction': 'read' };
const WRITE = { 'disk.io.direction': 'write' };

/** The points of one device's counters; the portable backend builds a DiskStat and reuses this. */
export function diskPoints(d: DiskStat): DiskPoint[] {
  return [
    ['io', int(d.sectorsRead * DISKSTATS_SECTOR_BYTES), READ],
    ['io', int(d.sectorsWritten * DISKSTATS_SECTOR_BYTES), WRITE],
    ['operations', int(d.readsCompleted), READ],
    ['operations', int(d.writesCompleted), WRITE],
    ['ioTime', d.ioTimeMs / 1000],
    ['operationTime', d.readTimeMs / 1000, READ],
    ['operationTime', d.writeTimeMs / 1000, WRITE],
    ['merged', int(d.readsMerged), READ],
    ['merged', int(d.writesMerged), WRITE],
    ['weightedIoTime', d.weightedIoTimeMs / 1000],
    ['pendingOperations', int(d.ioInProgress)],
  ];
}

/**
 * Which devices are reported: physical disks only unless asked. Partitions, loop, ram and zram
 * never (their I/O is the disk's, or memory's); dm-* and md* only with include_virtual, since
 * they count again the I/O of the disks beneath them. Then the include/exclude names.
 */
export class DeviceSelector {
  private readonly filter: NameFilter;

  constructor(private readonly options: DiskSettings) {
    this.filter = NameFilter.of('collectors.system.disk_options', options);
  }

  accepts(name: string, kind: BlockDeviceKind): boolean {
    const wanted = kind === 'disk' || ((kind === 'dm' || kind === 'md') && this.options.include_virtual);
    return wanted && this.filter.accepts(name);
  }
}

export class DiskCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;
  private readonly selector: DeviceSelector;
  // Device name -> reported or not. Classifying reads /sys/block, so it is redone on the slow
  // refresh schedule, or at once when /proc/diskstats shows a name never seen (a hot-plugged disk).
  private readonly reported = new Map<string, boolean>();
  private refreshedAt = Number.NEGATIVE_INFINITY;
  /** How many times the device list has been rebuilt (for tests and self-metrics). */
  refreshes = 0;

  constructor(private readonly ctx: FamilyContext<DiskSettings>) {
    this.selector = new DeviceSelector(ctx.settings);
  }

  private async refreshDevices(stats: DiskStat[]): Promise<void> {
    const wholeDisks = await readWholeDisks(this.ctx.host);
    this.reported.clear();
    for (const { name } of stats) this.reported.set(name, this.selector.accepts(name, classifyBlockDevice(name, wholeDisks)));
    this.refreshedAt = this.ctx.clock.monotonic();
    this.refreshes += 1;
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const stats = await readDiskstats(this.ctx.host);
    const due = this.ctx.clock.monotonic() - this.refreshedAt >= this.ctx.settings.refresh_interval;
    if (due || stats.some((d) => !this.reported.has(d.name))) await this.refreshDevices(stats);
    for (const d of stats) {
      if (this.reported.get(d.name) !== true) continue;
      for (const [key, value, attrs] of diskPoints(d)) out.observe(result, key, value, { 'system.device': d.name, ...attrs });
    }
  }
}

export const factory = collectorFactory(family, (ctx) => new DiskCollector(ctx));
