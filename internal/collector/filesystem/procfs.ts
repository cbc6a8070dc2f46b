import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { int, type Observation } from '../declaration';
import { NameFilter, PatternList } from '../match';
import type { MetricSink } from '../naming';
import { readVirtualFsTypes } from '../../procfs/filesystems';
import { readMountinfo, type MountInfo } from '../../procfs/mountinfo';
import type { NamingProfile, SystemCollectorsConfig } from '../../config/types';
import { family, metrics, type FilesystemSettings } from './declaration';
import { FailureStreak } from '../../log/streak';
import { GuardedStatfs, type FsStats, type StatfsFunction } from '../statfs';

/** A file system as reported: the attributes every point carries, in semconv keys. */
export interface FilesystemIdentity {
  device: string;
  mountpoint: string;
  type: string;
  mode: 'rw' | 'ro';
}

/**
 * The points of one file system. free is what users can still write (bavail), reserved what only
 * root can (bfree - bavail), used the rest: the three sum to the size, as semconv asks.
 * Utilization is each state / size under semconv, which gives it the usage states (they sum to
 * 1); the Collector has one utilization without a state, used / size (df's Use% divides by
 * used + free).
 */
export function filesystemPoints(s: FsStats, profile: NamingProfile): Array<Observation<typeof metrics, string>> {
  const size = s.blocks * s.bsize;
  const states: Array<[string, number]> = [['used', (s.blocks - s.bfree) * s.bsize], ['free', s.bavail * s.bsize], ['reserved', (s.bfree - s.bavail) * s.bsize]];
  const points: Array<Observation<typeof metrics, string>> = states.map(([state, bytes]) => ['usage', int(bytes), state]);
  points.push(['limit', int(size)]);
  if (size > 0) {
    if (profile === 'semconv') for (const [state, bytes] of states) points.push(['utilization', bytes / size, state]);
    else points.push(['utilization', states[0][1] / size]);
  }
  // File systems without an inode table (btrfs, vfat, many network ones) report zero inodes.
  if (s.files > 0) points.push(['inodes', int(s.files - s.ffree), 'used'], ['inodes', int(s.ffree), 'free']);
  return points;
}

export function filesystemAttributes(fs: FilesystemIdentity): Record<string, string> {
  return {
    'system.device': fs.device,
    'system.filesystem.mode': fs.mode,
    'system.filesystem.mountpoint': fs.mountpoint,
    'system.filesystem.type': fs.type,
  };
}

export function mountMode(m: MountInfo): 'rw' | 'ro' {
  return m.options.includes('ro') ? 'ro' : 'rw';
}

// zfs is nodev in /proc/filesystems but lives on disks: the Collector counts it as a device's.
const DEVICE_BACKED_NODEV = new Set(['zfs']);

/**
 * Whether a mount's file system has no device: its type, or the base type of a FUSE subtype
 * (`fuse.sshfs`), is nodev in /proc/filesystems. tmpfs and proc are, and so are network file
 * systems (nfs, cifs). The Collector leaves these out unless include_virtual_filesystems is set.
 */
export function isVirtualFs(fstype: string, virtualTypes: ReadonlySet<string>): boolean {
  const base = fstype.split('.')[0];
  return !DEVICE_BACKED_NODEV.has(base) && virtualTypes.has(base);
}

/**
 * Which mounts are reported: by type and device (names or /regex/), by mount point (regular
 * expressions, as in the Collector's Helm preset) and, when the TelemetryFlow key disk_paths is
 * set, only those mount points.
 */
export class MountSelector {
  private readonly types: NameFilter;
  private readonly includeTypes: PatternList;
  private readonly devices: NameFilter;
  private readonly mountpoints: NameFilter;
  private readonly diskPaths: Set<string>;

  constructor(options: SystemCollectorsConfig['filesystem_options'], diskPaths: readonly string[]) {
    const key = 'collectors.system.filesystem_options';
    this.includeTypes = new PatternList(`${key}.include_types`, options.include_types);
    this.types = new NameFilter(this.includeTypes, new PatternList(`${key}.exclude_types`, options.exclude_types));
    this.devices = new NameFilter(new PatternList(`${key}.include_devices`, options.include_devices), new PatternList(`${key}.exclude_devices`, options.exclude_devices));
    this.mountpoints = new NameFilter(
      new PatternList(`${key}.include_mountpoints`, options.include_mountpoints, 'regex'),
      new PatternList(`${key}.exclude_mountpoints`, options.exclude_mountpoints, 'regex'),
    );
    this.diskPaths = new Set(diskPaths);
  }

  /**
   * `virtualTypes`: the nodev types to leave out, unless the config names the mount (disk_paths)
   * or its type (include_types); undefined keeps every type.
   */
  accepts(m: MountInfo, virtualTypes?: ReadonlySet<string>): boolean {
    if (this.diskPaths.size > 0 && !this.diskPaths.has(m.mountpoint)) return false;
    if (virtualTypes !== undefined && isVirtualFs(m.fstype, virtualTypes) && !this.named(m)) return false;
    return this.types.accepts(m.fstype) && this.devices.accepts(m.source) && this.mountpoints.accepts(m.mountpoint);
  }

  private named(m: MountInfo): boolean {
    return this.diskPaths.has(m.mountpoint) || (!this.includeTypes.empty && this.includeTypes.matches(m.fstype));
  }

  /**
   * The selected mounts, one per file system: bind mounts share the device number and would
   * repeat the same sizes, so only the shortest mount point of each is kept.
   */
  select(mounts: MountInfo[], virtualTypes?: ReadonlySet<string>): MountInfo[] {
    const byDevice = new Map<string, MountInfo>();
    for (const m of mounts) {
      if (!this.accepts(m, virtualTypes)) continue;
      const seen = byDevice.get(m.majorMinor);
      if (seen === undefined || m.mountpoint.length < seen.mountpoint.length) byDevice.set(m.majorMinor, m);
    }
    return [...byDevice.values()];
  }
}

/** Why mounts were skipped since the start; exposed for tests and self-metrics. */
export interface FilesystemSkips {
  /** statfs did not answer within statfs_timeout. */
  timeout: number;
  /** An earlier statfs of the mount point is still pending, so none was issued. */
  pending: number;
  /** statfs failed (mount point not visible from here, no permission, …). */
  error: number;
}

export class FilesystemCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;
  readonly skipped: FilesystemSkips = { timeout: 0, pending: 0, error: 0 };
  private readonly selector: MountSelector;
  private readonly statfs: GuardedStatfs;
  private readonly streak: FailureStreak;

  constructor(
    private readonly ctx: FamilyContext<FilesystemSettings>,
    statfs?: StatfsFunction,
    // The portable backend lists mounts through systeminformation instead of mountinfo.
    private readonly readMounts: () => Promise<MountInfo[]> = () => readMountinfo(ctx.host),
  ) {
    this.selector = new MountSelector(ctx.settings, ctx.settings.disk_paths);
    this.streak = new FailureStreak(ctx.logger, 'collector.filesystem.statfs', () => ctx.clock.now());
    this.statfs = new GuardedStatfs(statfs);
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    // Without /proc/filesystems (not Linux) every type is kept: exclude_types does the work.
    const virtualTypes = this.ctx.settings.include_virtual_filesystems ? undefined : readVirtualFsTypes(this.ctx.host);
    const mounts = this.selector.select(await this.readMounts(), virtualTypes);
    const timeoutMs = this.ctx.settings.statfs_timeout;
    const outcomes = await Promise.all(mounts.map((m) => this.statfs.stat(this.ctx.host.resolve(m.mountpoint), m.mountpoint, timeoutMs)));
    const problems: string[] = [];
    mounts.forEach((m, i) => {
      const outcome = outcomes[i];
      if ('skip' in outcome) {
        this.skipped[outcome.skip] += 1;
        problems.push(outcome.why);
        return;
      }
      const attrs = filesystemAttributes({ device: m.source, mountpoint: m.mountpoint, type: m.fstype, mode: mountMode(m) });
      for (const [key, value, state] of filesystemPoints(outcome, this.ctx.naming)) {
        out.observe(result, key, value, state === undefined ? attrs : { ...attrs, 'system.filesystem.state': state });
      }
    });
    // One reason per set of troubled mounts, so a hung mount logs when it starts and ends only.
    if (problems.length > 0) this.streak.failure(problems.sort().join('; '), { skipped: { ...this.skipped } });
    else this.streak.success();
  }
}

export const factory = collectorFactory(family, (ctx) => new FilesystemCollector(ctx));
