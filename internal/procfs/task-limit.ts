import { ParseError } from './errors';
import type { HostFs } from './host';

const PID_MAX = '/proc/sys/kernel/pid_max';
const THREADS_MAX = '/proc/sys/kernel/threads-max';

/** Parses a sysctl file holding one non-negative integer (`kernel.pid_max`, `kernel.threads-max`). */
export function parseSysctlCount(text: string, source: string): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(value)) throw new ParseError(source, `"${trimmed.slice(0, 40)}" is not a count`);
  return value;
}

/**
 * How many tasks (processes and threads) the kernel lets exist at once: the smaller of
 * kernel.threads-max and kernel.pid_max, since a fork needs both a task slot and a pid.
 * Undefined where the host's /proc/sys is not visible (an lxcfs container view).
 */
export function readTaskLimit(host: HostFs): number | undefined {
  const pidMax = host.readOptional(PID_MAX);
  const threadsMax = host.readOptional(THREADS_MAX);
  if (pidMax === undefined || threadsMax === undefined) return undefined;
  return Math.min(parseSysctlCount(pidMax, PID_MAX), parseSysctlCount(threadsMax, THREADS_MAX));
}
