import { ON, type Family, type Metrics } from '../declaration';

// Not in semconv; the Collector's names are what every dashboard uses, so both profiles share them.
export const metrics = {
  load1: { semconv: 'system.cpu.load_average.1m', hostmetrics: 'system.cpu.load_average.1m', kind: 'gauge', unit: '{thread}', value: 'double', description: 'Load average over 1 minute.', default: ON },
  load5: { semconv: 'system.cpu.load_average.5m', hostmetrics: 'system.cpu.load_average.5m', kind: 'gauge', unit: '{thread}', value: 'double', description: 'Load average over 5 minutes.', default: ON },
  load15: { semconv: 'system.cpu.load_average.15m', hostmetrics: 'system.cpu.load_average.15m', kind: 'gauge', unit: '{thread}', value: 'double', description: 'Load average over 15 minutes.', default: ON },
} as const satisfies Metrics;

export const family: Family<typeof metrics, undefined> = {
  name: 'load',
  metrics,
  section: 'system',
  switch: 'collectors.system.load',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.load,
  settings: () => undefined,
  sources: '/proc/loadavg',
};
