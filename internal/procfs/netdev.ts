import { ParseError } from './errors';
import type { HostFs } from './host';

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

function parseLine(line: string, lineNumber: number): NetDevStat {
  // `%6s:%8llu …`: a large byte count can touch the colon, so split there, not on spaces.
  const colon = line.indexOf(':');
  const name = line.slice(0, colon).trim();
  const n = line.slice(colon + 1).trim().split(/\s+/).map(Number);
  if (colon < 0 || name === '' || n.length < FIELDS || n.some((v) => !(Number.isInteger(v) && v >= 0))) {
    throw new ParseError(SOURCE, `line ${lineNumber}: expected "name: ${FIELDS} counters": ${JSON.stringify(line)}`);
  }
  return {
    name,
    rxBytes: n[0], rxPackets: n[1], rxErrors: n[2], rxDropped: n[3], rxFifo: n[4], rxFrame: n[5], rxCompressed: n[6], rxMulticast: n[7],
    txBytes: n[8], txPackets: n[9], txErrors: n[10], txDropped: n[11], txFifo: n[12], txCollisions: n[13], txCarrier: n[14], txCompressed: n[15],
  };
}

/** Parses `/proc/net/dev` (two header lines, then one line per interface). */
export function parseNetDev(text: string): NetDevStat[] {
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('Inter-|') || !lines[1]?.includes('|bytes')) {
    throw new ParseError(SOURCE, 'missing the two header lines');
  }
  const stats: NetDevStat[] = [];
  for (let i = 2; i < lines.length; i++) {
    if (lines[i].trim() !== '') stats.push(parseLine(lines[i], i + 1));
  }
  return stats;
}

/** The interfaces of the network namespace whose procfs is mounted at the host root. */
export async function readNetDev(host: HostFs): Promise<NetDevStat[]> {
  return parseNetDev(host.readText(SOURCE));
}
