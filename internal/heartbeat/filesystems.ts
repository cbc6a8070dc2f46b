import type { DiskPartitionInfo, SystemInfo } from '../../pkg/heartbeat';
import { GuardedStatfs, type FsStats } from '../collector/statfs';
import type { HostFs } from '../procfs/host';
import type { MountInfo } from '../procfs/mountinfo';
import { percent, sumOf } from './fields';

/** df's used percent: used / (used + available to users); root's reserve is not available. */
export function usedPercent(s: FsStats): number {
  const used = (s.blocks - s.bfree) * s.bsize;
  return percent(used, used + s.bavail * s.bsize);
}

/** One partition from statfs, df-style (see usedPercent). */
export function partitionInfo(mount: MountInfo, s: FsStats): DiskPartitionInfo {
  const total = s.blocks * s.bsize;
  const used = (s.blocks - s.bfree) * s.bsize;
  const free = s.bavail * s.bsize;
  return {
    device: mount.source,
    mountpoint: mount.mountpoint,
    fstype: mount.fstype,
    total,
    used,
    free,
    usage: usedPercent(s),
    inodes: s.files,
    inodesFree: s.ffree,
    inodesUsage: percent(s.files - s.ffree, s.files),
  };
}

/**
 * statfs of every mount through `statfs` (bounded, never two calls stuck on one mount); a mount
 * that fails or hangs is left out and named in `problems`.
 */
export async function readPartitions(
  host: HostFs,
  statfs: GuardedStatfs,
  mounts: readonly MountInfo[],
  timeoutMs: number,
): Promise<{ partitions: DiskPartitionInfo[]; problems: string[] }> {
  const problems: string[] = [];
  const outcomes = await Promise.all(mounts.map((m) => statfs.stat(host.resolve(m.mountpoint), m.mountpoint, timeoutMs)));
  const partitions: DiskPartitionInfo[] = [];
  mounts.forEach((m, i) => {
    const outcome = outcomes[i]!;
    if ('skip' in outcome) problems.push(outcome.why);
    else partitions.push(partitionInfo(m, outcome));
  });
  return { partitions, problems };
}

type DiskSpaceFields = Pick<SystemInfo, 'diskTotal' | 'diskUsed' | 'diskAvailable' | 'diskUsage' | 'diskInodes' | 'diskInodesFree' | 'diskInodesUsed' | 'diskInodesUsage'>;

/** Totals over the partitions; 0 everywhere when none is reported (a known, empty sum). */
export function diskSpaceFields(partitions: readonly DiskPartitionInfo[]): DiskSpaceFields {
  const sum = sumOf(partitions);
  const used = sum((p) => p.used);
  const available = sum((p) => p.free);
  const inodes = sum((p) => p.inodes);
  const inodesFree = sum((p) => p.inodesFree);
  return {
    diskTotal: sum((p) => p.total),
    diskUsed: used,
    diskAvailable: available,
    diskUsage: percent(used, used + available),
    diskInodes: inodes,
    diskInodesFree: inodesFree,
    diskInodesUsed: inodes - inodesFree,
    diskInodesUsage: percent(inodes - inodesFree, inodes),
  };
}
