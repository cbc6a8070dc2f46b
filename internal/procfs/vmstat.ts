import { ParseError } from './errors';
import type { HostFs } from './host';

const SOURCE = '/proc/vmstat';

/** Parses `/proc/vmstat` (`name value` per line) into counters by name (`pgfault`, `pswpin`, …). */
export function parseVmstat(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.length === 0) return;
    const match = /^(\w+) (-?\d+)$/.exec(line);
    if (match === null) throw new ParseError(SOURCE, `line ${i + 1}: "${line.slice(0, 80)}" is not "name value"`);
    counters.set(match[1]!, Number(match[2]));
  });
  if (counters.size === 0) throw new ParseError(SOURCE, 'empty file');
  return counters;
}

export async function readVmstat(host: HostFs): Promise<Map<string, number>> {
  return parseVmstat(host.readText(SOURCE));
}
