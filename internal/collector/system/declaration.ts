import { ON, type Family, type Metrics } from '../declaration';

// Only system.uptime is in semconv; the rest are tfo-agent extensions under system.linux.*
// (documented in docs/METRICS.md), the same in both profiles since the Collector has none.
export const metrics = {
  uptime: { semconv: 'system.uptime', hostmetrics: 'system.uptime', kind: 'gauge', unit: 's', value: 'double', description: 'Seconds since the system booted.', default: ON },
  fileDescriptors: { semconv: 'system.linux.file_descriptor.count', hostmetrics: 'system.linux.file_descriptor.count', kind: 'updowncounter', unit: '{file_descriptor}', value: 'int', description: 'File handles in use system-wide (allocated minus unused, /proc/sys/fs/file-nr).', default: ON },
  fileDescriptorLimit: { semconv: 'system.linux.file_descriptor.limit', hostmetrics: 'system.linux.file_descriptor.limit', kind: 'updowncounter', unit: '{file_descriptor}', value: 'int', description: 'System-wide maximum of file handles (fs.file-max).', default: ON },
  entropy: { semconv: 'system.linux.entropy.available', hostmetrics: 'system.linux.entropy.available', kind: 'gauge', unit: '{bit}', value: 'int', description: 'Entropy available in the kernel input pool.', default: ON },
  contextSwitches: { semconv: 'system.linux.context_switch.count', hostmetrics: 'system.linux.context_switch.count', kind: 'counter', unit: '{context_switch}', value: 'int', description: 'Context switches since boot.', default: ON },
  interrupts: { semconv: 'system.linux.interrupt.count', hostmetrics: 'system.linux.interrupt.count', kind: 'counter', unit: '{interrupt}', value: 'int', description: 'Interrupts serviced since boot, by type (hard, soft).', attributes: { 'system.linux.interrupt.type': { values: ['hard', 'soft'] } }, default: ON },
} as const satisfies Metrics;

export const family: Family<typeof metrics, undefined> = {
  name: 'system',
  metrics,
  section: 'system',
  switch: 'collectors.system.system',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.system,
  settings: () => undefined,
  sources: '/proc/uptime, /proc/sys/fs/file-nr, /proc/sys/kernel/random/entropy_avail, /proc/stat',
};
