import { ParseError } from './errors';
import type { HostFs } from './host';
import { isBlank, numberAt } from './scan';

/** One interface of `/proc/net/dev`: the kernel's counters since the interface was created. */
export interface NetDevStat {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  rxFifo: number;
  rxFrame: number;
  rxCompressed: number;
  rxMulticast: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  txFifo: number;
  txCollisions: number;
  txCarrier: number;
  txCompressed: number;
}

const SOURCE = '/proc/net/dev';
const FIELDS = 16;

/**
 * The interface of the line from `start` to `end`, read in place (the local API's sampler parses
 * the file every second); `n` is scratch space.
 */
function parseLine(text: string, start: number, end: number, lineNumber: number, n: number[]): NetDevStat {
  // `%6s:%8llu …`: a large byte count can touch the colon, so split there, not on spaces.
  const colon = text.indexOf(':', start);
  let count = 0;
  let valid = colon !== -1 && colon < end;
  let name = '';
  if (valid) {
    let from = start;
    let to = colon;
    while (from < to && isBlank(text.charCodeAt(from))) from += 1;
    while (to > from && isBlank(text.charCodeAt(to - 1))) to -= 1;
    name = text.slice(from, to);
    for (let i = colon + 1; ; ) {
      while (i < end && isBlank(text.charCodeAt(i))) i += 1;
      if (i >= end) break;
      let j = i;
      while (j < end && !isBlank(text.charCodeAt(j))) j += 1;
      const value = numberAt(text, i, j);
      if (!(Number.isInteger(value) && value >= 0)) valid = false;
      n[count] = value;
      count += 1;
      i = j;
    }
  }
  if (!valid || name === '' || count < FIELDS) {
    throw new ParseError(SOURCE, `line ${lineNumber}: expected "name: ${FIELDS} counters": ${JSON.stringify(text.slice(start, end))}`);
  }
  return {
    name,
    rxBytes: n[0]!, rxPackets: n[1]!, rxErrors: n[2]!, rxDropped: n[3]!, rxFifo: n[4]!, rxFrame: n[5]!, rxCompressed: n[6]!, rxMulticast: n[7]!,
    txBytes: n[8]!, txPackets: n[9]!, txErrors: n[10]!, txDropped: n[11]!, txFifo: n[12]!, txCollisions: n[13]!, txCarrier: n[14]!, txCompressed: n[15]!,
  };
}

/** Parses `/proc/net/dev` (two header lines, then one line per interface). */
export function parseNetDev(text: string): NetDevStat[] {
  const first = text.indexOf('\n');
  const second = first === -1 ? -1 : text.indexOf('\n', first + 1);
  const secondEnd = second === -1 ? text.length : second;
  if (!text.startsWith('Inter-|') || first === -1 || text.slice(first + 1, secondEnd).indexOf('|bytes') === -1) {
    throw new ParseError(SOURCE, 'missing the two header lines');
  }
  const stats: NetDevStat[] = [];
  const n: number[] = [];
  let lineNumber = 2;
  for (let start = secondEnd + 1; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber += 1;
    let blank = true;
    for (let i = start; i < end && blank; i += 1) blank = isBlank(text.charCodeAt(i));
    if (!blank) stats.push(parseLine(text, start, end, lineNumber, n));
    start = end + 1;
  }
  return stats;
}

/** The interfaces of the network namespace whose procfs is mounted at the host root. */
export async function readNetDev(host: HostFs): Promise<NetDevStat[]> {
  return parseNetDev(host.readText(SOURCE));
}
