import type { SystemCollectorsConfig } from '../../config/types';
import { OFF, ON, SEMCONV_ONLY, type AttributeDecl, type Family, type Metrics } from '../declaration';

const IDENTITY: Readonly<Record<string, AttributeDecl>> = {
  'system.device': {},
  'system.filesystem.mode': { values: ['rw', 'ro'] },
  'system.filesystem.mountpoint': {},
  'system.filesystem.type': {},
};

const STATE = { values: ['used', 'free', 'reserved'] } as const;

export const metrics = {
  usage: { semconv: 'system.filesystem.usage', hostmetrics: 'system.filesystem.usage', kind: 'updowncounter', unit: 'By', value: 'int', description: 'File system space by state: used, free (available to users) and reserved (for root).', attributes: { ...IDENTITY, 'system.filesystem.state': STATE }, default: ON },
  utilization: { semconv: 'system.filesystem.utilization', hostmetrics: 'system.filesystem.utilization', kind: 'gauge', unit: '1', value: 'double', description: 'Share of the file system\'s space in each state (semconv), or in use (hostmetrics).', attributes: { ...IDENTITY, 'system.filesystem.state': { ...STATE, profiles: ['semconv'] } }, default: SEMCONV_ONLY, option: 'utilization' },
  limit: { semconv: 'system.filesystem.limit', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Total size of the file system.', attributes: IDENTITY, default: OFF },
  inodes: { hostmetrics: 'system.filesystem.inodes.usage', kind: 'updowncounter', unit: '{inodes}', value: 'int', description: 'File system inodes by state: used, free.', attributes: { ...IDENTITY, 'system.filesystem.state': { values: ['used', 'free'] } }, default: ON },
} as const satisfies Metrics;

export type FilesystemSettings = SystemCollectorsConfig['filesystem_options'] & {
  /** The TelemetryFlow key disk_paths: only these mount points when set. */
  disk_paths: string[];
  /** How often the portable reader lists mounts (it runs df): disk_options.refresh_interval. */
  mount_refresh_interval: number;
};

export const family: Family<typeof metrics, FilesystemSettings> = {
  name: 'filesystem',
  metrics,
  section: 'system',
  switch: 'collectors.system.filesystem',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.filesystem,
  settingsKey: 'collectors.system.filesystem_options',
  settings: ({ collectors: { system } }) => ({
    ...system.filesystem_options,
    disk_paths: system.disk_paths,
    mount_refresh_interval: system.disk_options.refresh_interval,
  }),
  sources: '/proc/self/mountinfo, statfs(2) of each mount point',
};
