import { ParseError } from './errors';
import type { HostFs } from './host';

/** One line of a PSI file: the recent averages (percent) and the cumulative stall time. */
export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Cumulative stall time, seconds (the kernel's `total=` is microseconds). */
  totalSeconds: number;
}

/** `some`: at least one task stalled; `full`: every non-idle task stalled at once. */
export interface Pressure {
  some?: PressureLine;
  full?: PressureLine;
}

/** The PSI resources; `irq` exists since Linux 6.1 and has only a `full` line. */
export const PRESSURE_RESOURCES = ['cpu', 'memory', 'io', 'irq'] as const;
export type PressureResource = (typeof PRESSURE_RESOURCES)[number];

const LINE = /^(some|full) avg10=(\d+\.\d+) avg60=(\d+\.\d+) avg300=(\d+\.\d+) total=(\d+)$/;

/** Parses one `/proc/pressure/<resource>` file. */
export function parsePressure(text: string, source = '/proc/pressure'): Pressure {
  const pressure: Pressure = {};
  text.split('\n').forEach((line, i) => {
    if (line.length === 0) return;
    const match = LINE.exec(line);
    if (match === null) throw new ParseError(source, `line ${i + 1}: "${line.slice(0, 80)}" is not "some|full avg10=… avg60=… avg300=… total=…"`);
    pressure[match[1] as 'some' | 'full'] = {
      avg10: Number(match[2]),
      avg60: Number(match[3]),
      avg300: Number(match[4]),
      totalSeconds: Number(match[5]) / 1e6,
    };
  });
  if (pressure.some === undefined && pressure.full === undefined) throw new ParseError(source, 'no "some" or "full" line');
  return pressure;
}

/**
 * Reads every PSI file the kernel offers. Kernels without PSI (before 4.20, or booted with
 * psi=0) have no /proc/pressure, or files that fail to open with EOPNOTSUPP: both mean "none".
 */
export async function readPressure(host: HostFs): Promise<Map<PressureResource, Pressure>> {
  const found = new Map<PressureResource, Pressure>();
  for (const resource of PRESSURE_RESOURCES) {
    const path = `/proc/pressure/${resource}`;
    const text = host.readOptional(path);
    if (text !== undefined) found.set(resource, parsePressure(text, path));
  }
  return found;
}
