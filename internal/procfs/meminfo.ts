import { ParseError } from './errors';
import type { HostFs } from './host';

/** `/proc/meminfo` as bytes by field name (`MemTotal`, `SReclaimable`, …). */
export type Meminfo = Map<string, number>;

/**
 * Parses `/proc/meminfo`. Values in kB are converted to bytes; unit-less fields (HugePages_*)
 * are kept as counts. Requires MemTotal, since nothing else means anything without it.
 */
export function parseMeminfo(text: string): Meminfo {
  const fields: Meminfo = new Map();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const parts = line.slice(colon + 1).trim().split(/\s+/);
    const value = Number(parts[0]);
    if (parts[0] === '' || !Number.isFinite(value)) continue;
    fields.set(line.slice(0, colon), parts[1] === 'kB' ? value * 1024 : value);
  }
  if (!fields.has('MemTotal')) throw new ParseError('/proc/meminfo', 'no MemTotal field');
  return fields;
}

export async function readMeminfo(host: HostFs): Promise<Meminfo> {
  return parseMeminfo(host.readText('/proc/meminfo'));
}

/** The honest "available": MemAvailable, or the legacy estimate on kernels before 3.14. */
export function memAvailable(m: Meminfo): number {
  const available = m.get('MemAvailable');
  if (available !== undefined) return available;
  return (m.get('MemFree') ?? 0) + (m.get('Buffers') ?? 0) + (m.get('Cached') ?? 0);
}
