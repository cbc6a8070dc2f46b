import { ON, type Family, type Metrics } from '../declaration';

export const metrics = {
  count: {
    semconv: 'system.process.count', hostmetrics: 'system.processes.count', kind: 'updowncounter', unit: { semconv: '{process}', hostmetrics: '{processes}' }, value: 'int', description: 'Processes by state.',
    attributes: { 'process.state': { values: ['running', 'sleeping', 'stopped', 'defunct'], hostmetricsValues: ['running', 'blocked', 'sleeping', 'stopped', 'zombies', 'idle'] } },
    default: ON,
  },
  created: { semconv: 'system.process.created', hostmetrics: 'system.processes.created', kind: 'counter', unit: { semconv: '{process}', hostmetrics: '{processes}' }, value: 'int', description: 'Processes and threads created since boot.', default: ON },
} as const satisfies Metrics;

export const family: Family<typeof metrics, undefined> = {
  name: 'processes',
  metrics,
  section: 'system',
  switch: 'collectors.system.processes',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.processes,
  settings: () => undefined,
  sources: '/proc/<pid>/stat (state of each), /proc/stat',
};
