// Reads the host every api.collect_interval through the procfs readers the collectors use, and
// hands each sample on (to the ring and the CSV history). Independent of the OTLP export cycle.
import { statfsSync } from 'node:fs';
import { diskIoFields } from '../heartbeat/fields';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { classifyBlockDevice, readWholeDisks } from '../procfs/block';
import { parseBlockDev, parseBlockStat, type BlockDevice } from '../procfs/block-stat';
import { readCpufreq, readCpuinfo } from '../procfs/cpuinfo';
import { parseDiskstats, type DiskStat } from '../procfs/diskstats';
import type { Clock } from '../procfs/host';
import type { KeptFilesHostFs } from '../procfs/kept-files';
import { parseLoadavg } from '../procfs/loadavg';
import { parseMeminfo } from '../procfs/meminfo';
import { parseNetDev } from '../procfs/netdev';
import { parseStat, type PerCpuTimes } from '../procfs/stat';
import { buildSample, type Reading, type Sample } from './sample';

// /sys/block changes only when a disk is attached or removed.
const DISK_LIST_REFRESH_MS = 60_000;
// One /sys/block/<disk>/stat read costs about half a /proc/diskstats read at a 1 s cadence (the
// kernel generates one line instead of every device's): cheaper up to this many disks.
const BLOCK_STAT_MAX_DISKS = 2;
// Without cpufreq the frequency comes from /proc/cpuinfo, which is costly on x86 (the kernel
// measures every CPU to print it): read at most this often.
const CPUINFO_REFRESH_MS = 60_000;

/**
 * The lines of /proc/meminfo up to SwapFree: every field a sample uses (MemTotal, MemAvailable or
 * MemFree, Buffers and Cached before 3.14, SwapTotal, SwapFree) comes before it in every kernel,
 * and the 40-odd lines after it are most of the parse's work and garbage. The whole text when
 * there is no SwapFree line.
 */
export function meminfoHead(text: string): string {
  const swapFree = text.indexOf('\nSwapFree:');
  const end = swapFree === -1 ? -1 : text.indexOf('\n', swapFree + 1);
  return end === -1 ? text : text.slice(0, end + 1);
}

/** Matches the /proc/diskstats lines (`major minor name counters…`) of the devices named. */
export function diskLinesOf(names: readonly string[]): RegExp {
  if (names.length === 0) return /(?!)/g;
  const escaped = names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^[ \\t]*\\d+[ \\t]+\\d+[ \\t]+(?:${escaped.join('|')})[ \\t].*$`, 'gm');
}

function mean(values: Iterable<number>): number | undefined {
  let sum = 0;
  let count = 0;
  for (const value of values) {
    sum += value;
    count += 1;
  }
  return count === 0 ? undefined : Math.round((sum / count) * 100) / 100;
}

export class Sampler {
  private previous: Reading | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wholeDisks: Set<string> | undefined;
  private wholeDisksAt = -Infinity;
  /** The /proc/diskstats lines of the physical disks; undefined without /sys/block. */
  private diskLines: RegExp | undefined;
  /** The physical disks read from /sys/block/<disk>/stat; undefined: /proc/diskstats is read. */
  private blockDevices: BlockDevice[] | undefined;
  private cpuinfoMhz: number | undefined;
  private cpuinfoAt = -Infinity;
  private cpufreq = true;
  private readonly streak: FailureStreak;

  constructor(
    private readonly host: KeptFilesHostFs,
    private readonly hostName: string,
    private readonly clock: Clock,
    logger: Logger,
    private readonly onSample: (sample: Sample) => void,
  ) {
    this.streak = new FailureStreak(logger, 'api.sampler');
  }

  /** Reads the disk list and the CPU frequency source, takes the baseline reading now, then samples every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    const now = this.clock.monotonic();
    await this.refreshDiskList(now);
    this.previous = this.read();
    if (!this.cpufreq) await this.refreshCpuinfo(now);
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.host.close();
  }

  /**
   * One sample against the previous reading. Synchronous: no promise each second. The disk list
   * and the cpuinfo frequency, read once a minute, are refreshed after the sample, for the next.
   */
  tick(): Sample {
    const current = this.read();
    const sample = buildSample(this.previous, current, this.hostName);
    this.previous = current;
    this.onSample(sample);
    if (current.monotonic - this.wholeDisksAt >= DISK_LIST_REFRESH_MS) void this.refreshDiskList(current.monotonic);
    if (!this.cpufreq && current.monotonic - this.cpuinfoAt >= CPUINFO_REFRESH_MS) void this.refreshCpuinfo(current.monotonic);
    return sample;
  }

  /**
   * Every source once; one that fails is left out of this sample and logged as a streak. The
   * files are read and parsed in one synchronous pass (they are generated by the kernel and never
   * wait on a disk): no promise per source each second.
   */
  private read(): Reading {
    const failed: string[] = [];
    const attempt = <T>(source: string, read: () => T): T | undefined => {
      try {
        return read();
      } catch (err) {
        failed.push(`${source}: ${errorMessage(err)}`);
        return undefined;
      }
    };
    const at = this.clock.now();
    const monotonic = this.clock.monotonic();
    const stat = attempt('/proc/stat', () => parseStat(this.host.readText('/proc/stat')));
    const meminfo = attempt('/proc/meminfo', () => parseMeminfo(meminfoHead(this.host.readText('/proc/meminfo'))));
    const loadavg = attempt('/proc/loadavg', () => parseLoadavg(this.host.readText('/proc/loadavg')));
    const disks = this.blockDevices
      ? attempt('/sys/block', () => this.blockDevices!.map((device) => parseBlockStat(device, this.host.readText(`/sys/block/${device.name}/stat`))))
      : attempt('/proc/diskstats', () => this.physicalDisks(this.host.readText('/proc/diskstats')));
    const netdev = attempt('/proc/net/dev', () => parseNetDev(this.host.readText('/proc/net/dev')).filter((n) => n.name !== 'lo'));
    // Synchronous, unlike the collectors' bounded statfs of every mount: the root file system
    // is the one the agent runs from, and a pool round trip every second cost more than the call.
    const rootFs = attempt('statfs /', () => statfsSync(this.host.resolve('/')));
    const freqMhz = stat ? this.frequency(stat.perCpu) : undefined;
    if (failed.length > 0) this.streak.failure(failed.join('; '));
    else this.streak.success();
    return { at, monotonic, stat, meminfo, loadavg, diskIo: disks && diskIoFields(disks), netdev, rootFs, freqMhz };
  }

  private async refreshDiskList(now: number): Promise<void> {
    this.wholeDisksAt = now;
    this.wholeDisks = await readWholeDisks(this.host);
    const physical = this.wholeDisks && [...this.wholeDisks].filter((name) => classifyBlockDevice(name, this.wholeDisks) === 'disk');
    this.diskLines = physical && diskLinesOf(physical);
    this.blockDevices = physical && physical.length <= BLOCK_STAT_MAX_DISKS ? this.readableBlockDevices(physical) : undefined;
  }

  /** The disks with a `dev` and a `stat` file in /sys/block; undefined when one lacks them (older kernels, a partial host root). */
  private readableBlockDevices(names: readonly string[]): BlockDevice[] | undefined {
    const devices: BlockDevice[] = [];
    for (const name of names) {
      const dev = this.host.readOptional(`/sys/block/${name}/dev`);
      const device = dev === undefined ? undefined : parseBlockDev(name, dev);
      if (device === undefined || this.host.readOptional(`/sys/block/${name}/stat`) === undefined) return undefined;
      devices.push(device);
    }
    return devices;
  }

  private physicalDisks(text: string): DiskStat[] {
    if (this.diskLines === undefined) return parseDiskstats(text).filter((d) => classifyBlockDevice(d.name, undefined) === 'disk');
    // Only the physical disks' lines are parsed: loop devices, partitions and device mapper are most of the file.
    const lines = text.match(this.diskLines);
    return lines === null ? [] : parseDiskstats(lines.join('\n'));
  }

  /** Mean MHz of the CPUs: cpufreq when the kernel has it, else cpuinfo (read at most once a minute). */
  private frequency(cpus: readonly PerCpuTimes[]): number | undefined {
    if (this.cpufreq) {
      const hz = readCpufreq(this.host, cpus.map((c) => c.cpu));
      if (hz.size > 0) return mean(Array.from(hz.values(), (value) => value / 1e6));
      // A kernel (or VM) without cpufreq does not grow one: stop asking every second.
      this.cpufreq = false;
    }
    return this.cpuinfoMhz;
  }

  private async refreshCpuinfo(now: number): Promise<void> {
    this.cpuinfoAt = now;
    this.cpuinfoMhz = await readCpuinfo(this.host).then((info) => mean(info.mhz.values()), () => undefined);
  }
}
