import { readFileSync } from 'node:fs';

/** The q-quantile (0..1) of `values` by nearest rank; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** This process's CPU time (user + system) in milliseconds. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time of a process in milliseconds, from /proc/<pid>/stat: its own (utime + stime) or that
 * of the children it has reaped (cutime + cstime). USER_HZ is 100 on every Linux this runs on,
 * so a tick is 10 ms: measure over many cycles.
 */
export function processCpuMs(pid: number | 'self', whose: 'own' | 'children' = 'own'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const first = whose === 'own' ? 11 : 13;
  return ((Number(fields[first]) + Number(fields[first + 1])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS). */
export function processRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
