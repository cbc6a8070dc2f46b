import { promises as fs, type StatsFs } from 'node:fs';
import type { DiskPartitionInfo, SystemInfo } from '../../pkg/heartbeat';
import type { FsStats } from '../collector/families/filesystem';
import type { HostFs } from '../collector/host';
import type { MountInfo } from '../procfs/mountinfo';
import { percent, sumOf } from './fields';

export class StatfsTimeoutError extends Error {
  constructor(readonly mountpoint: string, timeoutMs: number) {
    super(`statfs ${mountpoint}: no answer within ${timeoutMs} ms (hung network mount?)`);
    this.name = 'StatfsTimeoutError';
  }
}

async function statfsWithin(path: string, mountpoint: string, timeoutMs: number): Promise<StatsFs> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StatfsTimeoutError(mountpoint, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([fs.statfs(path), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One partition from statfs, df-style: usage is used / (used + available to users). */
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
    usage: percent(used, used + free),
    inodes: s.files,
    inodesFree: s.ffree,
    inodesUsage: percent(s.files - s.ffree, s.files),
  };
}

/**
 * statfs of every mount, each bounded by `timeoutMs`; a mount that fails or hangs is left out and
 * named in `problems`.
 */
export async function readPartitions(host: HostFs, mounts: readonly MountInfo[], timeoutMs: number): Promise<{ partitions: DiskPartitionInfo[]; problems: string[] }> {
  const problems: string[] = [];
  const results = await Promise.all(
    mounts.map(async (m) => {
      try {
        return partitionInfo(m, await statfsWithin(host.resolve(m.mountpoint), m.mountpoint, timeoutMs));
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
        return undefined;
      }
    }),
  );
  return { partitions: results.filter((p): p is DiskPartitionInfo => p !== undefined), problems };
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
