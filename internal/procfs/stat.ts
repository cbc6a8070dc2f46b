import { ParseError } from './errors';
import type { HostFs } from './host';

/** Clock ticks per second of /proc/stat (USER_HZ): 100 on every Linux architecture in use. */
export const USER_HZ = 100;

/**
 * CPU time by mode, in seconds. `guest` and `guestNice` are already counted inside `user` and
 * `nice` by the kernel: they are here for reference, never to be added to a total.
 */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

/** One online CPU's times; `cpu` is its logical number (offline CPUs have no line). */
export interface PerCpuTimes extends CpuTimes {
  cpu: number;
}

export interface KernelStat {
  total: CpuTimes;
  perCpu: PerCpuTimes[];
  contextSwitches: number;
  /** Hardware interrupts serviced since boot (first field of `intr`). */
  interrupts: number;
  /** Soft interrupts since boot; the `softirq` line exists since Linux 2.6.31. */
  softInterrupts: number | undefined;
  /** Processes and threads created since boot. */
  processesCreated: number;
  /** Runnable threads now; absent before 2.6.23. */
  procsRunning: number | undefined;
  /** Threads blocked on I/O now; absent before 2.6.23. */
  procsBlocked: number | undefined;
  /** Boot time, seconds since the epoch. */
  bootTime: number;
}

const SOURCE = '/proc/stat';
// Kernels before 2.6.11 stop after iowait/irq/softirq; steal, guest and guest_nice came later.
const MODES: Array<keyof CpuTimes> = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'];
const MIN_CPU_FIELDS = 4;
// Lines whose first number is all the agent reads (intr and softirq go on per source).
const SINGLE_VALUE_LINES = new Set(['intr', 'ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked', 'softirq']);

/** Total CPU time of `t`, seconds: every mode once (guest time is already inside user/nice). */
export function cpuTotal(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

// The seconds of one line, reused: parseStat is synchronous, and the object is built in one literal.
const scratch = new Float64Array(10);

// A plain loop into one object literal: the agent runs on V8's interpreter, where a callback per
// field and stores by computed key into an empty object cost more than the parse itself.
function parseCpuLine(line: string, lineNo: number, cpu: number | undefined): CpuTimes | PerCpuTimes {
  // The line is trimmed and starts with its name: split(/\s+/) leaves no empty field.
  const fields = line.split(/\s+/);
  const count = fields.length - 1;
  if (count < MIN_CPU_FIELDS) {
    throw new ParseError(SOURCE, `line ${lineNo}: ${fields[0]} has ${count} fields, expected at least ${MIN_CPU_FIELDS}`);
  }
  for (let i = 0; i < MODES.length; i++) {
    const raw = fields[i + 1];
    const ticks = raw === undefined ? 0 : Number(raw);
    if (!Number.isInteger(ticks) || ticks < 0) throw new ParseError(SOURCE, `line ${lineNo}: ${fields[0]} ${MODES[i]} is "${raw}", expected a tick count`);
    scratch[i] = ticks / USER_HZ;
  }
  const s = scratch;
  return cpu === undefined
    ? { user: s[0]!, nice: s[1]!, system: s[2]!, idle: s[3]!, iowait: s[4]!, irq: s[5]!, softirq: s[6]!, steal: s[7]!, guest: s[8]!, guestNice: s[9]! }
    : { cpu, user: s[0]!, nice: s[1]!, system: s[2]!, idle: s[3]!, iowait: s[4]!, irq: s[5]!, softirq: s[6]!, steal: s[7]!, guest: s[8]!, guestNice: s[9]! };
}

function firstNumber(line: string, key: string, lineNo: number): number {
  const start = key.length + 1;
  const end = line.indexOf(' ', start);
  const raw = line.slice(start, end === -1 ? undefined : end);
  const value = Number(raw);
  if (raw.length === 0 || !Number.isFinite(value)) throw new ParseError(SOURCE, `line ${lineNo}: ${key} is "${raw}", expected a number`);
  return value;
}

/**
 * Parses `/proc/stat`. Requires the aggregate `cpu` line, `intr`, `ctxt`, `btime` and
 * `processes`; a file missing one of them is truncated or not /proc/stat. The `intr` line can
 * hold thousands of per-IRQ counts: only its total is read.
 */
export function parseStat(text: string): KernelStat {
  let total: CpuTimes | undefined;
  const perCpu: PerCpuTimes[] = [];
  const single = new Map<string, number>();
  let lineNo = 0;
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end).trimEnd();
    start = end + 1;
    lineNo += 1;
    if (line.length === 0) continue;
    if (line.startsWith('cpu')) {
      const space = line.indexOf(' ');
      const name = line.slice(0, space === -1 ? undefined : space);
      if (name === 'cpu') {
        total = parseCpuLine(line, lineNo, undefined);
      } else {
        const cpu = Number(name.slice(3));
        if (!Number.isInteger(cpu) || cpu < 0) throw new ParseError(SOURCE, `line ${lineNo}: "${name}" is not a CPU`);
        perCpu.push(parseCpuLine(line, lineNo, cpu) as PerCpuTimes);
      }
      continue;
    }
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    if (SINGLE_VALUE_LINES.has(key)) {
      single.set(key, firstNumber(line, key, lineNo));
    }
  }
  if (total === undefined) throw new ParseError(SOURCE, 'no aggregate "cpu" line');
  const required = (key: string): number => {
    const value = single.get(key);
    if (value === undefined) throw new ParseError(SOURCE, `no "${key}" line (truncated file?)`);
    return value;
  };
  return {
    total,
    perCpu,
    interrupts: required('intr'),
    contextSwitches: required('ctxt'),
    bootTime: required('btime'),
    processesCreated: required('processes'),
    softInterrupts: single.get('softirq'),
    procsRunning: single.get('procs_running'),
    procsBlocked: single.get('procs_blocked'),
  };
}

// The last read by host root, until the current run of the event loop ends. The cpu, system and
// processes collectors all need /proc/stat, and the SDK starts their callbacks in one run: they
// share one read, which matters on many-CPU hosts where the kernel sums every IRQ over every CPU
// to print the file. The entry is gone a microtask later, so no collection sees an older snapshot.
const shared = new Map<string, Promise<KernelStat>>();

/** `/proc/stat` of the host, parsed; callers in the same run share one read. Do not mutate the result. */
export function readStat(host: HostFs): Promise<KernelStat> {
  const pending = shared.get(host.root);
  if (pending !== undefined) return pending;
  // The async function reads at once (the read is synchronous); its settling, and so the delete,
  // comes after the current run.
  const read = (async () => parseStat(host.readText(SOURCE)))().finally(() => shared.delete(host.root));
  shared.set(host.root, read);
  return read;
}
