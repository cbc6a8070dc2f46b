import { fsSize, type Systeminformation } from 'systeminformation';
import type { CollectorContext } from '../collector';
import { FilesystemCollector, factory as procfs } from '../families/filesystem';
import { HostFs } from '../../procfs/host';
import type { PortableFactory } from '../registry';
import type { MountInfo } from '../../procfs/mountinfo';

/** systeminformation's file system list as mount entries the procfs family's selector takes. */
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
 * from the procfs family's statfs path (Node's fs.statfs, nothing spawned) every cycle.
 */
function slowMountList(ctx: CollectorContext): () => Promise<MountInfo[]> {
  let mounts: MountInfo[] | undefined;
  let readAt = -Infinity;
  return async () => {
    const now = ctx.clock.monotonic();
    if (mounts === undefined || now - readAt >= ctx.config.collectors.system.disk_options.refresh_interval) {
      mounts = mountsFromSi(await fsSize());
      readAt = now;
    }
    return mounts;
  };
}

export const factory: PortableFactory = {
  name: procfs.name,
  enabled: procfs.enabled,
  unsupported: () => undefined,
  // systeminformation reads the machine it runs on, so statfs does too (no host root).
  create: (ctx) => new FilesystemCollector({ ...ctx, host: new HostFs('/') }, undefined, slowMountList(ctx)),
};
