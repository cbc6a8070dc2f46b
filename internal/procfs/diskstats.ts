import { ParseError } from './errors';
import type { HostFs } from './host';
import { isBlank, numberAt } from './scan';

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

/**
 * The device of the line from `start` to `end`, or undefined for a blank line. Read in place,
 * word by word (the local API's sampler parses the file every second); `n` is scratch space.
 */
function parseLine(text: string, start: number, end: number, lineNumber: number, n: number[]): DiskStat | undefined {
  let columns = 0;
  let name = '';
  let bad: string | undefined;
  let badColumn = 0;
  for (let i = start; ; ) {
    while (i < end && isBlank(text.charCodeAt(i))) i += 1;
    if (i >= end) break;
    let j = i;
    while (j < end && !isBlank(text.charCodeAt(j))) j += 1;
    if (columns === 2) name = text.slice(i, j);
    else {
      const value = numberAt(text, i, j);
      if (!(Number.isInteger(value) && value >= 0) && bad === undefined) {
        bad = text.slice(i, j);
        badColumn = columns + 1;
      }
      n[columns] = value;
    }
    columns += 1;
    i = j;
  }
  if (columns === 0) return undefined;
  if (columns < BASE_COLUMNS) {
    throw new ParseError(SOURCE, `line ${lineNumber}: expected at least ${BASE_COLUMNS} columns, found ${columns}: ${JSON.stringify(text.slice(start, end))}`);
  }
  if (bad !== undefined) throw new ParseError(SOURCE, `line ${lineNumber}: column ${badColumn} is not a counter: ${JSON.stringify(bad)}`);
  const stat: DiskStat = {
    major: n[0]!, minor: n[1]!, name,
    readsCompleted: n[3]!, readsMerged: n[4]!, sectorsRead: n[5]!, readTimeMs: n[6]!,
    writesCompleted: n[7]!, writesMerged: n[8]!, sectorsWritten: n[9]!, writeTimeMs: n[10]!,
    ioInProgress: n[11]!, ioTimeMs: n[12]!, weightedIoTimeMs: n[13]!,
  };
  if (columns >= 18) {
    stat.discardsCompleted = n[14];
    stat.discardsMerged = n[15];
    stat.sectorsDiscarded = n[16];
    stat.discardTimeMs = n[17];
  }
  if (columns >= 20) {
    stat.flushesCompleted = n[18];
    stat.flushTimeMs = n[19];
  }
  return stat;
}

/** Parses `/proc/diskstats`: every device the kernel knows, in the kernel's order. */
export function parseDiskstats(text: string): DiskStat[] {
  const stats: DiskStat[] = [];
  const n: number[] = [];
  let lineNumber = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber += 1;
    const stat = parseLine(text, start, end, lineNumber, n);
    if (stat !== undefined) stats.push(stat);
    start = end + 1;
  }
  if (stats.length === 0) throw new ParseError(SOURCE, 'no devices');
  return stats;
}

export async function readDiskstats(host: HostFs): Promise<DiskStat[]> {
  return parseDiskstats(host.readText(SOURCE));
}
