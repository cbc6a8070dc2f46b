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

const MODES: readonly CpuMode[] = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'];

/** Per-mode deltas with a step back counted as 0. */
function modeDeltas(previous: CpuTimes, current: CpuTimes): CpuTimes {
  const deltas = {} as CpuTimes;
  for (const mode of MODES) deltas[mode] = Math.max(0, current[mode] - previous[mode]);
  return deltas;
}

function sharesOf(deltas: CpuTimes): ModeShares | undefined {
  const elapsed = cpuTotal(deltas);
  if (!(elapsed > 0)) return undefined;
  const shares = {} as ModeShares;
  for (const mode of MODES) shares[mode] = Math.min(1, deltas[mode] / elapsed);
  shares.busy = Math.max(0, 1 - shares.idle - shares.iowait);
  return shares;
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
  const before = new Map(previous.perCpu.map((times) => [times.cpu, times]));
  const sum = Object.fromEntries(MODES.map((mode) => [mode, 0])) as unknown as CpuTimes;
  for (const now of current.perCpu) {
    const then = before.get(now.cpu);
    if (then === undefined) continue;
    const deltas = modeDeltas(then, now);
    const shares = sharesOf(deltas);
    if (shares === undefined) continue;
    perCpu.set(now.cpu, shares);
    for (const mode of MODES) sum[mode] += deltas[mode];
  }
  return { total: sharesOf(sum), perCpu };
}
