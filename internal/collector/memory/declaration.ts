import type { SystemCollectorsConfig } from '../../config/types';
import { OFF, ON, SEMCONV_ONLY, type Family, type Metrics } from '../declaration';

// Fields reported in detailed mode: the ones an operator debugging memory pressure asks for.
// All are sizes (kB in the file, bytes here); the HugePages_* page counts are not.
export const DETAILED_FIELDS = [
  'Active', 'Inactive', 'Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)', 'Dirty', 'Writeback',
  'AnonPages', 'Mapped', 'Shmem', 'KernelStack', 'PageTables', 'CommitLimit', 'Committed_AS', 'AnonHugePages',
  'Mlocked', 'Unevictable', 'SwapCached', 'SwapTotal', 'SwapFree',
] as const;

const STATE = {
  values: ['used', 'free', 'cached', 'buffers'],
  hostmetricsValues: ['used', 'free', 'buffered', 'cached', 'slab_reclaimable', 'slab_unreclaimable'],
} as const;

export const metrics = {
  usage: { semconv: 'system.memory.usage', hostmetrics: 'system.memory.usage', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Memory in use, by state.', attributes: { 'system.memory.state': STATE }, default: ON },
  utilization: { semconv: 'system.memory.utilization', hostmetrics: 'system.memory.utilization', kind: 'gauge', unit: '1', value: 'double', description: 'Share of memory in each state.', attributes: { 'system.memory.state': STATE }, default: SEMCONV_ONLY, option: 'utilization' },
  limit: { semconv: 'system.memory.limit', hostmetrics: 'system.memory.limit', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Total memory available to the system.', default: OFF },
  available: { semconv: 'system.memory.linux.available', hostmetrics: 'system.linux.memory.available', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Memory available for starting new applications without swapping (MemAvailable).', default: SEMCONV_ONLY },
  shared: { semconv: 'system.memory.linux.shared', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Shared memory, mostly tmpfs (Shmem).', default: OFF },
  slab: { semconv: 'system.memory.linux.slab.usage', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Kernel slab memory, by reclaimability.', attributes: { 'system.memory.linux.slab.state': { values: ['reclaimable', 'unreclaimable'] } }, default: ON },
  detail: { semconv: 'system.memory.linux.detail', hostmetrics: 'system.linux.memory.detail', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Every /proc/meminfo field worth having, by field (detailed mode).', attributes: { 'system.memory.linux.field': { values: DETAILED_FIELDS } }, default: OFF, option: 'detailed' },
} as const satisfies Metrics;

export type MemorySettings = SystemCollectorsConfig['memory_options'];

export const family: Family<typeof metrics, MemorySettings> = {
  name: 'memory',
  metrics,
  section: 'system',
  switch: 'collectors.system.memory',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.memory,
  settingsKey: 'collectors.system.memory_options',
  settings: (config) => config.collectors.system.memory_options,
  sources: '/proc/meminfo',
};
