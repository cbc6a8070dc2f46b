import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import type { SystemInfo } from '../../pkg/heartbeat';
import { heartbeatSchema, systemInfoFields } from '../../internal/heartbeat/schema';

// Every field of the TypeScript type with whether the type makes it optional. The compiler checks
// this table against SystemInfo (a missing, extra or wrongly marked field does not compile); the
// tests check it against the JSON Schema, so the two published forms of the contract agree.
type Presence<K extends keyof SystemInfo> = object extends Pick<SystemInfo, K> ? 'optional' : 'required';
const FIELDS: { [K in keyof SystemInfo]-?: Presence<K> } = {
  hostname: 'required',
  os: 'required',
  osVersion: 'optional',
  platform: 'optional',
  platformFamily: 'optional',
  kernelVersion: 'required',
  architecture: 'required',
  uptime: 'required',
  bootTime: 'required',
  timezone: 'required',
  hostId: 'optional',
  cpuCores: 'required',
  cpuLogicalCores: 'required',
  cpuPhysicalCores: 'required',
  cpuModel: 'optional',
  cpuVendor: 'optional',
  cpuFamily: 'optional',
  cpuMhz: 'optional',
  cpuCacheSize: 'optional',
  cpuUsage: 'optional',
  cpuUserPercent: 'optional',
  cpuSystemPercent: 'optional',
  cpuIdlePercent: 'optional',
  cpuIowaitPercent: 'optional',
  cpuStealPercent: 'optional',
  cpuGuestPercent: 'optional',
  cpuIrqPercent: 'optional',
  cpuSoftirqPercent: 'optional',
  cpuNicePercent: 'optional',
  loadAvg1: 'required',
  loadAvg5: 'required',
  loadAvg15: 'required',
  cpuPerCore: 'optional',
  memoryTotal: 'required',
  memoryUsed: 'required',
  memoryAvailable: 'required',
  memoryFree: 'required',
  memoryUsage: 'required',
  memoryCached: 'required',
  memoryBuffers: 'required',
  memoryActive: 'optional',
  memoryInactive: 'optional',
  memoryWired: 'optional',
  memoryShared: 'optional',
  memorySlab: 'optional',
  memoryPageTables: 'optional',
  memoryCommitted: 'optional',
  memoryCommitLimit: 'optional',
  memoryDirty: 'optional',
  memoryWriteback: 'optional',
  swapTotal: 'required',
  swapUsed: 'required',
  swapFree: 'required',
  swapUsage: 'required',
  swapIn: 'optional',
  swapOut: 'optional',
  pageFaultsMajor: 'optional',
  pageFaultsMinor: 'optional',
  diskTotal: 'required',
  diskUsed: 'required',
  diskAvailable: 'required',
  diskUsage: 'required',
  diskInodes: 'required',
  diskInodesFree: 'required',
  diskInodesUsed: 'required',
  diskInodesUsage: 'required',
  diskReadBytes: 'required',
  diskWriteBytes: 'required',
  diskReadOps: 'required',
  diskWriteOps: 'required',
  diskReadTime: 'required',
  diskWriteTime: 'required',
  diskIoTime: 'required',
  diskWeightedIo: 'required',
  diskIoInProgress: 'required',
  diskIops: 'optional',
  diskLatencyRead: 'optional',
  diskLatencyWrite: 'optional',
  diskPartitions: 'required',
  networkBytesSent: 'required',
  networkBytesRecv: 'required',
  networkPacketsSent: 'required',
  networkPacketsRecv: 'required',
  networkErrorsIn: 'required',
  networkErrorsOut: 'required',
  networkDropsIn: 'required',
  networkDropsOut: 'required',
  networkFifoIn: 'required',
  networkFifoOut: 'required',
  networkBytesSentRate: 'optional',
  networkBytesRecvRate: 'optional',
  tcpConnectionsEstablished: 'optional',
  tcpConnectionsTimeWait: 'optional',
  tcpConnectionsCloseWait: 'optional',
  tcpConnectionsListen: 'optional',
  tcpConnectionsSynSent: 'optional',
  tcpConnectionsSynRecv: 'optional',
  tcpConnectionsFinWait1: 'optional',
  tcpConnectionsFinWait2: 'optional',
  tcpConnectionsLastAck: 'optional',
  tcpConnectionsClosing: 'optional',
  tcpRetransmits: 'optional',
  networkInterfaces: 'required',
  processCount: 'required',
  processRunning: 'required',
  processSleeping: 'required',
  processStopped: 'required',
  processZombie: 'required',
  processBlocked: 'required',
  threadCount: 'required',
  contextSwitches: 'required',
  interrupts: 'required',
  softInterrupts: 'required',
  systemCalls: 'optional',
  openFileDescriptors: 'optional',
  maxFileDescriptors: 'optional',
  fileDescriptorsUsage: 'optional',
  entropyAvailable: 'optional',
  isContainer: 'required',
  containerId: 'optional',
  containerRuntime: 'optional',
  containerName: 'optional',
  containerImage: 'optional',
  isVirtualized: 'required',
  virtualizationType: 'optional',
  cloudProvider: 'optional',
  cloudInstanceId: 'optional',
  cloudInstanceType: 'optional',
  cloudRegion: 'optional',
  cloudZone: 'optional',
  agentVersion: 'required',
  agentStartTime: 'required',
  agentUptime: 'required',
  collectionTime: 'required',
  collectionDuration: 'required',
};

describe('the heartbeat contract in pkg/', () => {
  it('has the 135 fields of the TelemetryFlow contract', () => {
    assert.equal(Object.keys(FIELDS).length, 135);
    assert.equal(systemInfoFields().length, 135);
  });

  it('the JSON Schema and the TypeScript type name the same fields', () => {
    assert.deepEqual([...systemInfoFields()].sort(), Object.keys(FIELDS).sort());
  });

  it('the schema requires exactly the fields the type requires', () => {
    const required = Object.entries(FIELDS).filter(([, p]) => p === 'required').map(([k]) => k).sort();
    assert.deepEqual([...heartbeatSchema().properties.systemInfo.required].sort(), required);
  });

  it('compiles under strict ajv and rejects unknown fields, wrong types and negative counters', () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(heartbeatSchema());
    assert.equal(validate({}), true, 'a body without systemInfo (include_system_info: false) is valid');
    assert.equal(validate({ systemInfo: {} }), false);
    assert.equal(validate({ systemInfo: {}, extra: 1 }), false);
    const errors = (validate.errors ?? []).map((e) => e.message ?? '');
    assert.ok(errors.some((m) => m.includes("'hostname'")), 'missing required fields are reported by name');
  });

  it('every field documents its unit or meaning', () => {
    const props = heartbeatSchema().properties.systemInfo.properties as Record<string, { description?: string }>;
    for (const [name, prop] of Object.entries(props)) assert.ok(prop.description && prop.description.length > 2, name);
  });
});
