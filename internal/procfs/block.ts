import type { HostFs } from './host';

/**
 * What a block device is, as far as counting I/O goes. `disk` is a whole physical (or
 * para-virtual) disk; `dm` (device mapper: LVM, LUKS, multipath) and `md` (software RAID) sit on
 * top of disks; partitions are slices of a disk; loop, ram and zram are memory or file backed.
 */
export type BlockDeviceKind = 'disk' | 'partition' | 'dm' | 'md' | 'loop' | 'ram' | 'zram';

// Partition names of the common drivers, for hosts whose /sys is not visible.
const PARTITION_NAME = /^(?:(?:[shv]|xv)d[a-z]+\d+|(?:nvme\d+n\d+|mmcblk\d+|nbd\d+|loop\d+)p\d+)$/;

/**
 * Classifies a device name from `/proc/diskstats`. `wholeDisks` is the content of the host's
 * `/sys/block`, which lists whole disks only (partitions live beneath their disk); without it
 * (no sysfs under the host root) partitions are recognised by the drivers' naming schemes.
 */
export function classifyBlockDevice(name: string, wholeDisks: ReadonlySet<string> | undefined): BlockDeviceKind {
  if (/^loop\d/.test(name)) return 'loop';
  if (/^zram\d/.test(name)) return 'zram';
  if (/^ram\d/.test(name)) return 'ram';
  if (wholeDisks !== undefined ? !wholeDisks.has(name) : PARTITION_NAME.test(name)) return 'partition';
  if (/^dm-\d/.test(name)) return 'dm';
  if (/^md\d|^md_/.test(name)) return 'md';
  return 'disk';
}

/** The host's `/sys/block` entries, or undefined when the host's sysfs cannot be read. */
export async function readWholeDisks(host: HostFs): Promise<Set<string> | undefined> {
  try {
    return new Set(host.list('/sys/block'));
  } catch {
    return undefined;
  }
}
