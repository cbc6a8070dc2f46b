import { ParseError } from './errors';
import type { HostFs } from './host';

/** One line of `/proc/diskstats` (Documentation/admin-guide/iostats.rst). Times in ms. */
export interface DiskStat {
  major: number;
  minor: number;
  name: string;
  readsCompleted: number;
  readsMerged: number;
  sectorsRead: number;
  readTimeMs: number;
  writesCompleted: number;
  writesMerged: number;
  sectorsWritten: number;
  writeTimeMs: number;
  /** The only gauge: requests in flight now. */
  ioInProgress: number;
  ioTimeMs: number;
  weightedIoTimeMs: number;
  /** Kernel 4.18 and later. */
  discardsCompleted?: number;
  discardsMerged?: number;
  sectorsDiscarded?: number;
  discardTimeMs?: number;
  /** Kernel 5.5 and later. */
  flushesCompleted?: number;
  flushTimeMs?: number;
}

const SOURCE = '/proc/diskstats';
// major, minor, name and the eleven fields every kernel since 2.6.25 writes for every device.
const BASE_COLUMNS = 14;

/** `/proc/diskstats` sectors are always 512 bytes, whatever the device's sector size. */
export const DISKSTATS_SECTOR_BYTES = 512;

function parseLine(line: string, lineNumber: number): DiskStat {
  const cols = line.trim().split(/\s+/);
  if (cols.length < BASE_COLUMNS) {
    throw new ParseError(SOURCE, `line ${lineNumber}: expected at least ${BASE_COLUMNS} columns, found ${cols.length}: ${JSON.stringify(line)}`);
  }
  const n = cols.map((col, i) => (i === 2 ? 0 : Number(col)));
  const bad = n.findIndex((value, i) => i !== 2 && !(Number.isInteger(value) && value >= 0));
  if (bad >= 0) throw new ParseError(SOURCE, `line ${lineNumber}: column ${bad + 1} is not a counter: ${JSON.stringify(cols[bad])}`);
  const stat: DiskStat = {
    major: n[0], minor: n[1], name: cols[2],
    readsCompleted: n[3], readsMerged: n[4], sectorsRead: n[5], readTimeMs: n[6],
    writesCompleted: n[7], writesMerged: n[8], sectorsWritten: n[9], writeTimeMs: n[10],
    ioInProgress: n[11], ioTimeMs: n[12], weightedIoTimeMs: n[13],
  };
  if (cols.length >= 18) {
    stat.discardsCompleted = n[14];
    stat.discardsMerged = n[15];
    stat.sectorsDiscarded = n[16];
    stat.discardTimeMs = n[17];
  }
  if (cols.length >= 20) {
    stat.flushesCompleted = n[18];
    stat.flushTimeMs = n[19];
  }
  return stat;
}

/** Parses `/proc/diskstats`: every device the kernel knows, in the kernel's order. */
export function parseDiskstats(text: string): DiskStat[] {
  const stats: DiskStat[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') stats.push(parseLine(line, i + 1));
  });
  if (stats.length === 0) throw new ParseError(SOURCE, 'no devices');
  return stats;
}

export async function readDiskstats(host: HostFs): Promise<DiskStat[]> {
  return parseDiskstats(host.readText(SOURCE));
}
