import type { BatchObservableResult } from '@opentelemetry/api';
import { cpus, type CpuInfo } from 'node:os';
import { cpu as siCpu } from 'systeminformation';
import { portableFactory, type Collector, type FamilyContext } from '../collector';
import { int } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics, type CpuSettings } from './declaration';
import { cpuModes, cpuUtilization } from './procfs';
import { modeShares } from '../../procfs/cpu-shares';
import type { CpuTimes } from '../../procfs/stat';

// The modes every platform's os.cpus() reports (libuv: user, nice, sys, idle, irq). iowait,
// softirq and steal exist on Linux only and are left out rather than reported as zero.
const PORTABLE_MODES = new Set(['user', 'nice', 'system', 'idle', 'interrupt']);

/** libuv's per-CPU milliseconds as the procfs family's CpuTimes in seconds. */
export function cpuTimesFromOs(info: CpuInfo): CpuTimes {
  const t = info.times;
  return { user: t.user / 1000, nice: t.nice / 1000, system: t.sys / 1000, idle: t.idle / 1000, irq: t.irq / 1000, iowait: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 };
}

/** Sums per-CPU times into the machine's. */
export function sumCpuTimes(all: CpuTimes[]): CpuTimes {
  const total: CpuTimes = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 };
  for (const t of all) for (const key of Object.keys(total) as Array<keyof CpuTimes>) total[key] += t[key];
  return total;
}

/**
 * CPU through Node's os.cpus() (libuv: /proc/stat on Linux, host_processor_info on macOS,
 * NtQuerySystemInformation on Windows; no process spawned), which is also what
 * systeminformation reads. si.currentLoad() is not used: on Linux it runs `cat /proc/stat`
 * in a shell on every call. The physical core count comes from si.cpu() once.
 */
class PortableCpuCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;
  private previous: CpuTimes[] | undefined;
  private physicalCores: Promise<number | undefined> | undefined;

  constructor(private readonly ctx: FamilyContext<CpuSettings>) {}

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const infos = cpus();
    const perCpu = infos.map(cpuTimesFromOs);
    const profile = this.ctx.naming;
    // A CPU going offline changes the list; deltas would then pair the wrong CPUs.
    const previous = this.previous?.length === perCpu.length ? this.previous : undefined;
    const series = this.ctx.settings.per_cpu
      ? perCpu.map((times, cpu) => ({ attrs: { 'cpu.logical_number': cpu }, times, before: previous?.[cpu] }))
      : [{ attrs: {}, times: sumCpuTimes(perCpu), before: previous && sumCpuTimes(previous) }];
    for (const { attrs, times, before } of series) {
      for (const [mode, seconds] of cpuModes(times, profile)) {
        if (PORTABLE_MODES.has(mode)) out.observe(result, 'time', seconds, { 'cpu.mode': mode, ...attrs });
      }
      const shares = before === undefined || !out.has('utilization') ? undefined : modeShares(before, times);
      for (const [mode, share] of shares ? cpuUtilization(shares, profile) : []) {
        if (PORTABLE_MODES.has(mode)) out.observe(result, 'utilization', share, { 'cpu.mode': mode, ...attrs });
      }
    }
    this.previous = perCpu;

    out.observe(result, 'logicalCount', int(infos.length));
    // Topology does not change while the agent runs; si.cpu() spawns lscpu on Linux, so once.
    this.physicalCores ??= siCpu().then((c) => (c.physicalCores > 0 ? c.physicalCores : undefined), () => undefined);
    const physical = await this.physicalCores;
    if (physical !== undefined) out.observe(result, 'physicalCount', int(physical));
    if (out.has('frequency')) infos.forEach((info, cpu) => out.observe(result, 'frequency', int(info.speed * 1e6), { 'cpu.logical_number': cpu }));
  }
}

export const factory = portableFactory(family, () => undefined, (ctx) => new PortableCpuCollector(ctx));
