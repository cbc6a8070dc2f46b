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
  // One match a line (name, first word, second word) rather than slicing, trimming and
  // splitting each line: fewer steps for V8's interpreter, which the agent runs on.
  const line = /^([^:\n]+):[ \t]*([^\s]*)(?:[ \t]+([^\s]+))?/gm;
  for (let match = line.exec(text); match !== null; match = line.exec(text)) {
    const raw = match[2]!;
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) continue;
    fields.set(match[1]!, match[3] === 'kB' ? value * 1024 : value);
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
