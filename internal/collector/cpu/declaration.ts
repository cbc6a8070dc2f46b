import type { SystemCollectorsConfig } from '../../config/types';
import { OFF, ON, SEMCONV_ONLY, type Family, type Metrics } from '../declaration';

const MODE = {
  values: ['user', 'nice', 'system', 'idle', 'iowait', 'interrupt', 'steal'],
  hostmetricsValues: ['user', 'nice', 'system', 'idle', 'wait', 'interrupt', 'softirq', 'steal'],
} as const;
// The Collector scrapes per CPU; the conventions make the CPU number opt-in.
const LOGICAL_NUMBER = { int: true, when: 'collectors.system.cpu_options.per_cpu', default: { semconv: false, hostmetrics: true } } as const;

export const metrics = {
  time: { semconv: 'system.cpu.time', hostmetrics: 'system.cpu.time', kind: 'counter', unit: 's', value: 'double', description: 'Seconds each logical CPU spent on each mode.', attributes: { 'cpu.mode': MODE, 'cpu.logical_number': LOGICAL_NUMBER }, default: ON },
  utilization: { semconv: 'system.cpu.utilization', hostmetrics: 'system.cpu.utilization', kind: 'gauge', unit: '1', value: 'double', description: 'Share of CPU time in each mode since the previous collection.', attributes: { 'cpu.mode': MODE, 'cpu.logical_number': LOGICAL_NUMBER }, default: OFF, option: 'utilization' },
  logicalCount: { semconv: 'system.cpu.logical.count', hostmetrics: 'system.cpu.logical.count', kind: 'updowncounter', unit: '{cpu}', value: 'int', description: 'Online logical CPUs.', default: SEMCONV_ONLY },
  physicalCount: { semconv: 'system.cpu.physical.count', hostmetrics: 'system.cpu.physical.count', kind: 'updowncounter', unit: '{cpu}', value: 'int', description: 'Physical cores.', default: SEMCONV_ONLY },
  frequency: { semconv: 'system.cpu.frequency', hostmetrics: 'system.cpu.frequency', kind: 'gauge', unit: 'Hz', value: { semconv: 'int', hostmetrics: 'double' }, description: 'Current operating frequency of each logical CPU.', attributes: { 'cpu.logical_number': { int: true } }, default: SEMCONV_ONLY, option: 'frequency' },
} as const satisfies Metrics;

/** cpu_options, with per_cpu resolved for the naming profile. */
export type CpuSettings = SystemCollectorsConfig['cpu_options'] & { per_cpu: boolean };

export const family: Family<typeof metrics, CpuSettings> = {
  name: 'cpu',
  metrics,
  section: 'system',
  switch: 'collectors.system.cpu',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.cpu,
  settingsKey: 'collectors.system.cpu_options',
  settings: ({ collectors: { system } }) => ({ ...system.cpu_options, per_cpu: system.cpu_options.per_cpu ?? LOGICAL_NUMBER.default[system.naming] }),
  sources: '/proc/stat, /proc/cpuinfo, sysfs CPU topology and cpufreq',
};
