import { ParseError } from './errors';
import type { HostFs } from './host';
import { isBlank, numberAt } from './scan';

/** `/proc/meminfo` as bytes by field name (`MemTotal`, `SReclaimable`, …). */
export type Meminfo = Map<string, number>;

/**
 * Parses `/proc/meminfo`. Values in kB are converted to bytes; unit-less fields (HugePages_*)
 * are kept as counts. Requires MemTotal, since nothing else means anything without it. Read in
 * place, line by line: the local API's sampler parses it every second.
 */
export function parseMeminfo(text: string): Meminfo {
  const fields: Meminfo = new Map();
  const length = text.length;
  for (let start = 0; start < length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = length;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < end) {
      // `Name:   value [unit]`: the first word after the colon is the value, the second its unit.
      let from = colon + 1;
      while (from < end && isBlank(text.charCodeAt(from))) from += 1;
      let to = from;
      while (to < end && !isBlank(text.charCodeAt(to))) to += 1;
      const value = to > from ? numberAt(text, from, to) : NaN;
      if (Number.isFinite(value)) {
        let unit = to;
        while (unit < end && isBlank(text.charCodeAt(unit))) unit += 1;
        const kB = text.startsWith('kB', unit) && (unit + 2 === end || isBlank(text.charCodeAt(unit + 2)));
        fields.set(text.slice(start, colon), kB ? value * 1024 : value);
      }
    }
    start = end + 1;
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
