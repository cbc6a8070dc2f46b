import { ParseError } from './errors';
import type { HostFs } from './host';

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
  /** Runnable threads now. */
  running: number;
  /** Threads that exist now. */
  total: number;
}

const SOURCE = '/proc/loadavg';

/** Parses `/proc/loadavg`: `0.26 0.29 0.26 4/93 10800`. */
export function parseLoadavg(text: string): LoadAverage {
  const fields = text.trim().split(/\s+/);
  const [load1, load5, load15] = fields.slice(0, 3).map(Number);
  const tasks = /^(\d+)\/(\d+)$/.exec(fields[3] ?? '');
  if (fields.length < 4 || [load1, load5, load15].some((v) => !Number.isFinite(v) || v! < 0) || tasks === null) {
    throw new ParseError(SOURCE, `"${text.trim().slice(0, 80)}" is not "load1 load5 load15 running/total last_pid"`);
  }
  return { load1: load1!, load5: load5!, load15: load15!, running: Number(tasks[1]), total: Number(tasks[2]) };
}

export async function readLoadavg(host: HostFs): Promise<LoadAverage> {
  return parseLoadavg(host.readText(SOURCE));
}
