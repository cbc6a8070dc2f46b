import type { BatchObservableResult } from '@opentelemetry/api';
import type { NamingProfile } from '../../config/types';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { int } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics, type CpuSettings } from './declaration';
import { errorMessage } from '../../log/logger';
import { FailureStreak } from '../../log/streak';
import { readCpufreq, readCpuinfo, type CpuInfo } from '../../procfs/cpuinfo';
import { cpuShares, type ModeShares } from '../../procfs/cpu-shares';
import { readStat, type CpuTimes, type KernelStat } from '../../procfs/stat';

/**
 * CPU time by mode in the profile's vocabulary (semconv keys; `iowait` becomes `wait` by
 * translation). semconv folds softirq into `interrupt`; the Collector reports it apart.
 * Guest time is inside user and nice already, so it is not a mode of its own.
 */
export function cpuModes(t: CpuTimes, profile: NamingProfile): Array<[string, number]> {
  const common: Array<[string, number]> = [['user', t.user], ['nice', t.nice], ['system', t.system], ['idle', t.idle], ['iowait', t.iowait], ['steal', t.steal]];
  return profile === 'semconv'
    ? [...common, ['interrupt', t.irq + t.softirq]]
    : [...common, ['interrupt', t.irq], ['softirq', t.softirq]];
}

/** Shares (procfs/cpu-shares.ts) in the profile's modes, each within 0–1. */
export function cpuUtilization(shares: ModeShares, profile: NamingProfile): Array<[string, number]> {
  return cpuModes(shares, profile).map(([mode, share]) => [mode, Math.min(1, share)]);
}

// Physical topology changes only with hardware hotplug: cpuinfo (costly to read on x86, the
// kernel samples every CPU's frequency) is re-read this often unless frequency needs it anyway.
const TOPOLOGY_REFRESH_MS = 10 * 60 * 1000;

class CpuCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;
  private previous: KernelStat | undefined;
  private cpuinfo: CpuInfo | undefined;
  private cpuinfoReadAt = -Infinity;
  private readonly cpuinfoFailures: FailureStreak;

  constructor(private readonly ctx: FamilyContext<CpuSettings>) {
    this.cpuinfoFailures = new FailureStreak(ctx.logger, 'collector.cpu.cpuinfo', () => ctx.clock.now());
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const stat = await readStat(this.ctx.host);
    const perCpu = this.ctx.settings.per_cpu;
    const profile = this.ctx.naming;
    const shares = this.previous === undefined || !out.has('utilization') ? undefined : cpuShares(this.previous, stat);
    const series: Array<{ attrs: Record<string, number>; times: CpuTimes; shares: ModeShares | undefined }> = perCpu
      ? stat.perCpu.map((c) => ({ attrs: { 'cpu.logical_number': c.cpu }, times: c, shares: shares?.perCpu.get(c.cpu) }))
      : [{ attrs: {}, times: stat.total, shares: shares?.total }];
    for (const { attrs, times, shares: modes } of series) {
      for (const [mode, seconds] of cpuModes(times, profile)) out.observe(result, 'time', seconds, { 'cpu.mode': mode, ...attrs });
      for (const [mode, share] of modes ? cpuUtilization(modes, profile) : []) out.observe(result, 'utilization', share, { 'cpu.mode': mode, ...attrs });
    }
    this.previous = stat;

    out.observe(result, 'logicalCount', int(stat.perCpu.length));
    const info = await this.cpuinfoFor(out.has('frequency'));
    // No topology anywhere (cpuinfo and sysfs both silent): no value rather than a guess.
    if (info?.physicalCores !== undefined) out.observe(result, 'physicalCount', int(info.physicalCores));
    if (out.has('frequency')) {
      const cpus = stat.perCpu.map((c) => c.cpu);
      const hz = info !== undefined && info.mhz.size > 0 ? new Map([...info.mhz].map(([cpu, mhz]) => [cpu, mhz * 1e6])) : readCpufreq(this.ctx.host, cpus);
      for (const [cpu, value] of hz) out.observe(result, 'frequency', int(value), { 'cpu.logical_number': cpu });
    }
  }

  /**
   * cpuinfo, re-read when frequency needs it or the topology is stale. A missing or broken
   * cpuinfo costs only the counts and frequency, not CPU time: it is logged as a streak and the
   * last good copy (if any) is kept.
   */
  private async cpuinfoFor(fresh: boolean): Promise<CpuInfo | undefined> {
    const now = this.ctx.clock.monotonic();
    if (fresh || now - this.cpuinfoReadAt >= TOPOLOGY_REFRESH_MS) {
      this.cpuinfoReadAt = now;
      try {
        this.cpuinfo = await readCpuinfo(this.ctx.host);
        this.cpuinfoFailures.success();
      } catch (err) {
        this.cpuinfoFailures.failure(errorMessage(err));
      }
    }
    return this.cpuinfo;
  }
}

export const factory = collectorFactory(family, (ctx) => new CpuCollector(ctx));
