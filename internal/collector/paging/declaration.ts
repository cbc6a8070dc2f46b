import { ON, SEMCONV_ONLY, type AttributeDecl, type Family, type Metrics } from '../declaration';

const AREA: Readonly<Record<string, AttributeDecl>> = {
  'system.device': {},
  'system.paging.state': { values: ['used', 'free'], hostmetricsValues: ['used', 'free', 'cached'] },
};
const FAULT_TYPE = { values: ['major', 'minor'] } as const;

export const metrics = {
  usage: { semconv: 'system.paging.usage', hostmetrics: 'system.paging.usage', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Swap space by device and state.', attributes: AREA, default: ON },
  utilization: { semconv: 'system.paging.utilization', hostmetrics: 'system.paging.utilization', kind: 'gauge', unit: '1', value: 'double', description: 'Share of each swap device in each state.', attributes: AREA, default: SEMCONV_ONLY },
  operations: { semconv: 'system.paging.operations', hostmetrics: 'system.paging.operations', kind: 'counter', unit: { semconv: '{operation}', hostmetrics: '{operations}' }, value: 'int', description: 'Paging operations: swap-ins/outs (major) and page-ins/outs (minor).', attributes: { 'system.paging.direction': { values: ['in', 'out'] }, 'system.paging.fault.type': FAULT_TYPE }, default: ON },
  faults: { semconv: 'system.paging.faults', hostmetrics: 'system.paging.faults', kind: 'counter', unit: { semconv: '{fault}', hostmetrics: '{faults}' }, value: 'int', description: 'Page faults by type.', attributes: { 'system.paging.fault.type': FAULT_TYPE }, default: ON },
} as const satisfies Metrics;

export const family: Family<typeof metrics, undefined> = {
  name: 'paging',
  metrics,
  section: 'system',
  switch: 'collectors.system.paging',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.paging,
  settings: () => undefined,
  sources: '/proc/swaps, /proc/vmstat, /proc/meminfo (SwapCached)',
};
