import { ON, type Family, type Metrics } from '../declaration';

export const metrics = {
  count: {
    semconv: 'system.process.count', hostmetrics: 'system.processes.count', kind: 'updowncounter', unit: { semconv: '{process}', hostmetrics: '{processes}' }, value: 'int', description: 'Processes by state.',
    attributes: { 'process.state': { values: ['running', 'sleeping', 'stopped', 'defunct'], hostmetricsValues: ['running', 'blocked', 'sleeping', 'stopped', 'zombies', 'idle'] } },
    default: ON,
  },
  created: { semconv: 'system.process.created', hostmetrics: 'system.processes.created', kind: 'counter', unit: { semconv: '{process}', hostmetrics: '{processes}' }, value: 'int', description: 'Processes and threads created since boot.', default: ON },
  // The Collector has no such metric.
  limit: { semconv: 'system.process.limit', kind: 'updowncounter', unit: '{thread}', value: 'int', description: 'Tasks (processes and threads) the kernel allows at once: the smaller of kernel.threads-max and kernel.pid_max.', default: ON },
} as const satisfies Metrics;

export const family: Family<typeof metrics, undefined> = {
  name: 'processes',
  metrics,
  section: 'system',
  switch: 'collectors.system.processes',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.processes,
  settings: () => undefined,
  sources: '/proc/<pid>/stat (state of each), /proc/stat, /proc/sys/kernel/{pid_max,threads-max}',
};
