import { PRESSURE_RESOURCES } from '../../procfs/pressure';
import { ON, type Family, type Metrics } from '../declaration';

// PSI is not in a released semconv (proposals use system.linux.pressure.stall_type) nor in the
// Collector: a tfo-agent extension, one name in both profiles.
export const metrics = {
  stallTime: {
    semconv: 'system.linux.pressure.stall_time', hostmetrics: 'system.linux.pressure.stall_time', kind: 'counter', unit: 's', value: 'double',
    description: 'Time tasks were stalled waiting for a resource (PSI total), by resource and stall type.',
    attributes: { 'system.linux.pressure.resource': { values: PRESSURE_RESOURCES }, 'system.linux.pressure.stall_type': { values: ['some', 'full'] } },
    default: ON,
  },
} as const satisfies Metrics;

export const family: Family<typeof metrics, undefined> = {
  name: 'pressure',
  metrics,
  section: 'system',
  switch: 'collectors.system.pressure',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.pressure,
  settings: () => undefined,
  sources: '/proc/pressure/{cpu,memory,io,irq}',
};
