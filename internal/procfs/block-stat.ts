import { parseDiskstats, type DiskStat } from './diskstats';
import { ParseError } from './errors';

/** A block device as /sys/block names it: `name`, and `major:minor` from its `dev` file. */
export interface BlockDevice {
  name: string;
  major: number;
  minor: number;
}

/** `/sys/block/<name>/dev` (`254:0`); undefined when it is not `major:minor`. */
export function parseBlockDev(name: string, text: string): BlockDevice | undefined {
  const match = /^(\d+):(\d+)\s*$/.exec(text);
  return match === null ? undefined : { name, major: Number(match[1]), minor: Number(match[2]) };
}

/**
 * `/sys/block/<name>/stat`: the device's line of /proc/diskstats without major, minor and name
 * (the same counters, as many as the kernel writes: 11, 15 since 4.18, 17 since 5.5), parsed by
 * the one diskstats parser. The kernel generates one device's line, not every device's.
 */
export function parseBlockStat(device: BlockDevice, text: string): DiskStat {
  try {
    return parseDiskstats(`${device.major} ${device.minor} ${device.name} ${text.trim()}`)[0]!;
  } catch (err) {
    if (err instanceof ParseError) throw new ParseError(`/sys/block/${device.name}/stat`, err.message.slice(err.source.length + 2));
    throw err;
  }
}
