// CPU shares between two /proc/stat readings: the one computation behind the cpu collector's
// utilization, the heartbeat's CPU percentages and the local API's samples.
//
// Hotplug and counters that step back, one policy:
// - A CPU is measured only when it has a line in both readings; one that came or went in between
//   is left out of that interval.
// - The total is the sum of those CPUs' deltas, not the delta of the aggregate `cpu` line: that
//   line drops a CPU's whole history when it goes offline and adds it back when it returns, so
//   its delta across a hotplug is meaningless. The aggregate line is used only when the file has
//   no per-CPU lines.
// - A mode whose counter went backwards (iowait does on tickless kernels; a CPU brought back
//   online may restart its counters) counts 0 for that interval; the shares are over the sum of
//   the remaining deltas, so they still add up to 1. No elapsed time at all: no shares.
import { cpuTotal, type CpuTimes, type KernelStat } from './stat';

export type CpuMode = keyof CpuTimes;

/**
 * Share (0–1) of each mode over the interval, and `busy`: everything but idle and iowait.
 * `guest` and `guestNice` are already inside `user` and `nice`: reported, never added.
 */
export type ModeShares = Record<CpuMode, number> & { busy: number };

/** Total and per logical CPU (keyed by its number, in the order of the file). */
export interface StatShares {
  total: ModeShares | undefined;
  perCpu: Map<number, ModeShares>;
}

export type StatReading = Pick<KernelStat, 'total' | 'perCpu'>;

// Object literals, not stores by computed key into an empty object: the agent runs on V8's
// interpreter, where those stores take its slowest path, and the API computes these every second.

/** Per-mode deltas with a step back counted as 0. */
function modeDeltas(previous: CpuTimes, current: CpuTimes): CpuTimes {
  return {
    user: Math.max(0, current.user - previous.user),
    nice: Math.max(0, current.nice - previous.nice),
    system: Math.max(0, current.system - previous.system),
    idle: Math.max(0, current.idle - previous.idle),
    iowait: Math.max(0, current.iowait - previous.iowait),
    irq: Math.max(0, current.irq - previous.irq),
    softirq: Math.max(0, current.softirq - previous.softirq),
    steal: Math.max(0, current.steal - previous.steal),
    guest: Math.max(0, current.guest - previous.guest),
    guestNice: Math.max(0, current.guestNice - previous.guestNice),
  };
}

function sharesOf(deltas: CpuTimes): ModeShares | undefined {
  const elapsed = cpuTotal(deltas);
  if (!(elapsed > 0)) return undefined;
  const idle = Math.min(1, deltas.idle / elapsed);
  const iowait = Math.min(1, deltas.iowait / elapsed);
  return {
    user: Math.min(1, deltas.user / elapsed),
    nice: Math.min(1, deltas.nice / elapsed),
    system: Math.min(1, deltas.system / elapsed),
    idle,
    iowait,
    irq: Math.min(1, deltas.irq / elapsed),
    softirq: Math.min(1, deltas.softirq / elapsed),
    steal: Math.min(1, deltas.steal / elapsed),
    guest: Math.min(1, deltas.guest / elapsed),
    guestNice: Math.min(1, deltas.guestNice / elapsed),
    busy: Math.max(0, 1 - idle - iowait),
  };
}

/** Shares of one CPU (or of a sum of CPUs) between two readings; undefined when no time elapsed. */
export function modeShares(previous: CpuTimes, current: CpuTimes): ModeShares | undefined {
  return sharesOf(modeDeltas(previous, current));
}

/** Shares over the interval between two /proc/stat readings, by the policy above. */
export function cpuShares(previous: StatReading, current: StatReading): StatShares {
  const perCpu = new Map<number, ModeShares>();
  if (previous.perCpu.length === 0 || current.perCpu.length === 0) {
    return { total: modeShares(previous.total, current.total), perCpu };
  }
  const before = new Map<number, CpuTimes>();
  for (const times of previous.perCpu) before.set(times.cpu, times);
  const sum: CpuTimes = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 };
  for (const now of current.perCpu) {
    const then = before.get(now.cpu);
    if (then === undefined) continue;
    const deltas = modeDeltas(then, now);
    const shares = sharesOf(deltas);
    if (shares === undefined) continue;
    perCpu.set(now.cpu, shares);
    sum.user += deltas.user;
    sum.nice += deltas.nice;
    sum.system += deltas.system;
    sum.idle += deltas.idle;
    sum.iowait += deltas.iowait;
    sum.irq += deltas.irq;
    sum.softirq += deltas.softirq;
    sum.steal += deltas.steal;
    sum.guest += deltas.guest;
    sum.guestNice += deltas.guestNice;
  }
  return { total: sharesOf(sum), perCpu };
}
