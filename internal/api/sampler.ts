// Reads the host every api.collect_interval through the procfs readers the collectors use, and
// hands each sample on (to the ring and the CSV history). Independent of the OTLP export cycle.
import { statfsSync } from 'node:fs';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { classifyBlockDevice, readWholeDisks } from '../procfs/block';
import { readCpufreq, readCpuinfo } from '../procfs/cpuinfo';
import { parseDiskstats, type DiskStat } from '../procfs/diskstats';
import type { Clock } from '../procfs/host';
import type { KeptFilesHostFs } from '../procfs/kept-files';
import { readLoadavg } from '../procfs/loadavg';
import { parseMeminfo } from '../procfs/meminfo';
import { readNetDev } from '../procfs/netdev';
import { readStat } from '../procfs/stat';
import { buildSample, type Reading, type Sample } from './sample';

// /sys/block changes only when a disk is attached or removed.
const DISK_LIST_REFRESH_MS = 60_000;
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
  private cpuinfoMhz: number | undefined;
  private cpuinfoAt = -Infinity;
  private cpufreq = true;
  private readonly streak: FailureStreak;
  private running = false;

  constructor(
    private readonly host: KeptFilesHostFs,
    private readonly hostName: string,
    private readonly clock: Clock,
    logger: Logger,
    private readonly onSample: (sample: Sample) => void,
  ) {
    this.streak = new FailureStreak(logger, 'api.sampler');
  }

  /** Takes the baseline reading now, then samples every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    this.previous = await this.read();
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.host.close();
  }

  /** One sample against the previous reading; a tick still running when the next is due is skipped. */
  async tick(): Promise<Sample | undefined> {
    if (this.running) return undefined;
    this.running = true;
    try {
      const current = await this.read();
      const sample = buildSample(this.previous, current, this.hostName);
      this.previous = current;
      this.onSample(sample);
      return sample;
    } finally {
      this.running = false;
    }
  }

  /** Every source once; one that fails is left out of this sample and logged as a streak. */
  private async read(): Promise<Reading> {
    const failed: string[] = [];
    const attempt = async <T>(source: string, read: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await read();
      } catch (err) {
        failed.push(`${source}: ${errorMessage(err)}`);
        return undefined;
      }
    };
    const at = this.clock.now();
    const monotonic = this.clock.monotonic();
    const [stat, meminfo, loadavg, disks, netdev, rootFs] = await Promise.all([
      attempt('/proc/stat', () => readStat(this.host)),
      attempt('/proc/meminfo', async () => parseMeminfo(meminfoHead(this.host.readText('/proc/meminfo')))),
      attempt('/proc/loadavg', () => readLoadavg(this.host)),
      attempt('/proc/diskstats', () => this.readPhysicalDisks(monotonic)),
      attempt('/proc/net/dev', async () => (await readNetDev(this.host)).filter((n) => n.name !== 'lo')),
      // Synchronous, unlike the collectors' bounded statfs of every mount: the root file system
      // is the one the agent runs from, and a pool round trip every second cost more than the call.
      attempt('statfs /', async () => statfsSync(this.host.resolve('/'))),
    ]);
    const freqMhz = stat ? await this.frequency(stat.perCpu.map((c) => c.cpu), monotonic) : undefined;
    if (failed.length > 0) this.streak.failure(failed.join('; '));
    else this.streak.success();
    return { at, monotonic, stat, meminfo, loadavg, disks, netdev, rootFs, freqMhz };
  }

  private async readPhysicalDisks(now: number): Promise<DiskStat[]> {
    if (now - this.wholeDisksAt >= DISK_LIST_REFRESH_MS) {
      this.wholeDisks = await readWholeDisks(this.host);
      this.wholeDisksAt = now;
      this.diskLines = this.wholeDisks && diskLinesOf([...this.wholeDisks].filter((name) => classifyBlockDevice(name, this.wholeDisks) === 'disk'));
    }
    const text = this.host.readText('/proc/diskstats');
    if (this.diskLines === undefined) return parseDiskstats(text).filter((d) => classifyBlockDevice(d.name, undefined) === 'disk');
    // Only the physical disks' lines are parsed: loop devices, partitions and device mapper are most of the file.
    const lines = text.match(this.diskLines);
    return lines === null ? [] : parseDiskstats(lines.join('\n'));
  }

  /** Mean MHz of the CPUs: cpufreq when the kernel has it, else cpuinfo (at most once a minute). */
  private async frequency(cpus: number[], now: number): Promise<number | undefined> {
    if (this.cpufreq) {
      const hz = await readCpufreq(this.host, cpus);
      if (hz.size > 0) return mean([...hz.values()].map((value) => value / 1e6));
      // A kernel (or VM) without cpufreq does not grow one: stop asking every second.
      this.cpufreq = false;
    }
    if (now - this.cpuinfoAt >= CPUINFO_REFRESH_MS) {
      this.cpuinfoAt = now;
      this.cpuinfoMhz = await readCpuinfo(this.host).then((info) => mean(info.mhz.values()), () => undefined);
    }
    return this.cpuinfoMhz;
  }
}
