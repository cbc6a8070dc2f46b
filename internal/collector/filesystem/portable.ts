import { fsSize, type Systeminformation } from 'systeminformation';
import { portableFactory, type FamilyContext } from '../collector';
import { HostFs } from '../../procfs/host';
import type { MountInfo } from '../../procfs/mountinfo';
import { family, type FilesystemSettings } from './declaration';
import { FilesystemCollector } from './procfs';

/** systeminformation's file system list as mount entries the procfs reader's selector takes. */
export function mountsFromSi(list: Systeminformation.FsSizeData[]): MountInfo[] {
  return list.map((f, i) => ({
    mountId: i,
    parentId: 0,
    // si gives no device number; the device name plays its part in de-duplicating bind mounts.
    majorMinor: f.fs,
    root: '/',
    mountpoint: f.mount,
    options: [f.rw === false ? 'ro' : 'rw'],
    fstype: f.type,
    source: f.fs,
    superOptions: [],
  }));
}

/**
 * The mount list from si.fsSize(), which runs `df` (Linux, macOS) or PowerShell (Windows): so it
 * is refreshed on the slow disk refresh schedule, never per cycle. The sizes themselves come
 * from the procfs reader's statfs path (Node's fs.statfs, nothing spawned) every cycle.
 */
function slowMountList(ctx: FamilyContext<FilesystemSettings>): () => Promise<MountInfo[]> {
  let mounts: MountInfo[] | undefined;
  let readAt = -Infinity;
  return async () => {
    const now = ctx.clock.monotonic();
    if (mounts === undefined || now - readAt >= ctx.settings.mount_refresh_interval) {
      mounts = mountsFromSi(await fsSize());
      readAt = now;
    }
    return mounts;
  };
}

export const factory = portableFactory(
  family,
  () => undefined,
  // systeminformation reads the machine it runs on, so statfs does too (no host root).
  (ctx) => new FilesystemCollector({ ...ctx, host: new HostFs('/') }, undefined, slowMountList(ctx)),
);
