import { ParseError } from './errors';
import type { HostFs } from './host';

export interface Uptime {
  /** Seconds since boot. */
  uptime: number;
  /** Idle seconds summed over every CPU (can exceed uptime on a multi-CPU host). */
  idle: number;
}

const SOURCE = '/proc/uptime';

/** Parses `/proc/uptime`: `1359.88 2270.30`. */
export function parseUptime(text: string): Uptime {
  const fields = text.trim().split(/\s+/);
  const [uptime, idle] = fields.map(Number);
  if (fields.length !== 2 || !Number.isFinite(uptime) || !Number.isFinite(idle) || uptime! < 0 || idle! < 0) {
    throw new ParseError(SOURCE, `"${text.trim().slice(0, 80)}" is not "uptime_seconds idle_seconds"`);
  }
  return { uptime: uptime!, idle: idle! };
}

export async function readUptime(host: HostFs): Promise<Uptime> {
  return parseUptime(host.readText(SOURCE));
}
