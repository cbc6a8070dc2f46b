import type { SystemCollectorsConfig } from '../../config/types';
import { ON, type Family, type Metrics } from '../declaration';

const DEVICE = {};
const DIRECTION = { values: ['read', 'write'] } as const;

export const metrics = {
  io: { semconv: 'system.disk.io', hostmetrics: 'system.disk.io', kind: 'counter', unit: 'By', value: 'int', description: 'Bytes read from and written to the disk.', attributes: { 'system.device': DEVICE, 'disk.io.direction': DIRECTION }, default: ON },
  operations: { semconv: 'system.disk.operations', hostmetrics: 'system.disk.operations', kind: 'counter', unit: { semconv: '{operation}', hostmetrics: '{operations}' }, value: 'int', description: 'Read and write operations completed.', attributes: { 'system.device': DEVICE, 'disk.io.direction': DIRECTION }, default: ON },
  ioTime: { semconv: 'system.disk.io_time', hostmetrics: 'system.disk.io_time', kind: 'counter', unit: 's', value: 'double', description: 'Time the disk had at least one request in flight.', attributes: { 'system.device': DEVICE }, default: ON },
  operationTime: { semconv: 'system.disk.operation_time', hostmetrics: 'system.disk.operation_time', kind: 'counter', unit: 's', value: 'double', description: 'Time spent on completed reads and writes, summed over requests.', attributes: { 'system.device': DEVICE, 'disk.io.direction': DIRECTION }, default: ON },
  merged: { semconv: 'system.disk.merged', hostmetrics: 'system.disk.merged', kind: 'counter', unit: { semconv: '{operation}', hostmetrics: '{operations}' }, value: 'int', description: 'Adjacent requests merged into one before reaching the disk.', attributes: { 'system.device': DEVICE, 'disk.io.direction': DIRECTION }, default: ON },
  weightedIoTime: { hostmetrics: 'system.disk.weighted_io_time', kind: 'counter', unit: 's', value: 'double', description: 'Request time in flight weighted by the number of requests in flight.', attributes: { 'system.device': DEVICE }, default: ON },
  pendingOperations: { hostmetrics: 'system.disk.pending_operations', kind: 'updowncounter', unit: { semconv: '{operation}', hostmetrics: '{operations}' }, value: 'int', description: 'Requests in flight now.', attributes: { 'system.device': DEVICE }, default: ON },
} as const satisfies Metrics;

export type DiskSettings = SystemCollectorsConfig['disk_options'];

export const family: Family<typeof metrics, DiskSettings> = {
  name: 'disk',
  metrics,
  section: 'system',
  switch: 'collectors.system.disk',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.disk,
  settingsKey: 'collectors.system.disk_options',
  settings: (config) => config.collectors.system.disk_options,
  sources: '/proc/diskstats, /sys/block',
};
