import { ParseError } from './errors';
import type { HostFs } from './host';

/** `/proc/net/snmp` as `Protocol.Field` → value, e.g. `Tcp.RetransSegs`. */
export type SnmpCounters = Map<string, number>;

/**
 * Parses `/proc/net/snmp`: each protocol is a header line of field names followed by a line of
 * values with the same prefix (`Tcp: RtoAlgorithm …` then `Tcp: 1 …`). Pairs whose lengths
 * differ are skipped rather than misaligned. Requires at least one complete pair.
 */
export function parseSnmp(text: string): SnmpCounters {
  const counters: SnmpCounters = new Map();
  const lines = text.split('\n').filter((line) => line.trim().length > 0);
  for (let i = 0; i + 1 < lines.length; i += 1) {
    const header = splitLine(lines[i]!);
    const values = splitLine(lines[i + 1]!);
    if (!header || !values || header.protocol !== values.protocol) continue;
    const numbers = values.fields.map(Number);
    // A header line has names; a value line has numbers. Anything else is not a pair.
    if (numbers.some((n) => !Number.isFinite(n)) || header.fields.some((f) => /^-?\d+$/.test(f))) continue;
    i += 1;
    if (header.fields.length !== numbers.length) continue;
    header.fields.forEach((name, k) => counters.set(`${header.protocol}.${name}`, numbers[k]!));
  }
  if (counters.size === 0) throw new ParseError('/proc/net/snmp', 'no protocol counters found');
  return counters;
}

function splitLine(line: string): { protocol: string; fields: string[] } | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  return { protocol: line.slice(0, colon), fields: line.slice(colon + 1).trim().split(/\s+/).filter(Boolean) };
}

export async function readSnmp(host: HostFs): Promise<SnmpCounters> {
  return parseSnmp(host.readText('/proc/net/snmp'));
}
