// The comparison behind reference.test.ts, on hand-built points: each kind of difference is found
// and worded, and points that match the reference give none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReceivedPoint } from '../support/otlp-receiver';
import { compareToReference, profileFacts, type MachineFacts } from './reference-compare';

const BOOT_MS = 1_700_000_000_000;

const machine: MachineFacts = {
  nothingToReport: new Set(),
  bootTimeMs: BOOT_MS,
  virtualFsTypes: new Set(['tmpfs']),
  statusName: (pid) => (pid === 42 ? 'nginx' : undefined),
};

function point(name: string, over: Partial<ReceivedPoint> = {}): ReceivedPoint {
  return {
    name, unit: 'By', description: '', kind: 'sum', monotonic: false, temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
    attributes: {}, resource: {}, scope: 'tfo-agent', startTimeUnixNano: BigInt(BOOT_MS) * 1_000_000n, timeUnixNano: 0n, value: 1, isInt: true,
    ...over,
  };
}

/** The differences about `name` alone. */
function about(name: string, found: string[]): string[] {
  return found.filter((d) => d.startsWith(`${name}:`));
}

describe('compareToReference', () => {
  it('finds nothing to say of a metric sent as the Collector declares it', () => {
    const found = compareToReference('hostmetrics', [
      point('system.memory.usage', { attributes: { state: 'used' } }),
      point('system.memory.usage', { attributes: { state: 'free' } }),
    ], machine);
    assert.deepEqual(about('system.memory.usage', found), []);
    assert.ok(!found.some((d) => d.startsWith('system.*')), 'starts at boot time');
  });

  it('names a wrong unit, kind, monotonicity, value type, key and value', () => {
    const found = compareToReference('hostmetrics', [
      point('system.disk.operations', { unit: '{operation}', monotonic: false, isInt: false, attributes: { device: 'vda', direction: 'sideways', extra: 'x' } }),
      point('system.cpu.load_average.1m', { unit: '{thread}', kind: 'sum', isInt: false }),
    ], machine);
    assert.deepEqual(about('system.disk.operations', found), [
      'system.disk.operations: attribute extra not in the reference',
      'system.disk.operations: direction=sideways not a value of the reference',
      'system.disk.operations: monotonic false, reference true',
      'system.disk.operations: unit {operation}, reference {operations}',
      'system.disk.operations: value type double, reference int',
    ]);
    assert.deepEqual(about('system.cpu.load_average.1m', found), ['system.cpu.load_average.1m: sum, reference gauge']);
  });

  it('lists default metrics not sent, opt-in ones sent, and names the reference does not know', () => {
    const found = compareToReference('semconv', [point('system.memory.limit'), point('system.linux.thing')], machine);
    assert.ok(found.includes('system.memory.limit: sent by default, opt-in in the reference'));
    assert.ok(found.includes('system.linux.thing: sent by default, not in the reference'));
    assert.ok(found.includes('system.cpu.time: missing (sent by default in the reference)'));
    assert.ok(!found.includes('system.cpu.utilization: missing (sent by default in the reference)'), 'opt-in: not expected');
    const asked = compareToReference('semconv', [point('system.memory.limit')], machine, ['system.memory.limit']);
    assert.ok(!asked.some((d) => d.startsWith('system.memory.limit: sent by default')), 'asked for in the config');
  });

  it('expects every mode the reference names in each scrape, and no opt-in attribute', () => {
    const modes = ['user', 'system', 'nice', 'idle', 'interrupt', 'steal'];
    const found = compareToReference('semconv', modes.map((mode) => point('system.cpu.time', { unit: 's', monotonic: true, isInt: false, attributes: { 'cpu.mode': mode, 'cpu.logical_number': 0 } })), machine);
    assert.deepEqual(about('system.cpu.time', found), ['system.cpu.time: cpu.mode lacks iowait', 'system.cpu.time: opt-in attribute cpu.logical_number sent by default']);
  });

  it('wants process identity on the resource, its name from status, and start at boot for system sums', () => {
    const identity = { 'process.pid': 42, 'process.executable.name': 'nginx-worker' };
    const found = compareToReference('hostmetrics', [
      point('process.memory.usage', { attributes: identity }),
      point('system.processes.created', { unit: '{processes}', monotonic: true, startTimeUnixNano: BigInt(BOOT_MS + 60_000) * 1_000_000n }),
      point('system.filesystem.usage', { attributes: { device: 'tmpfs', mode: 'rw', mountpoint: '/run', type: 'tmpfs', state: 'used' } }),
    ], machine);
    for (const key of profileFacts('hostmetrics').processResource) {
      assert.ok(found.includes(`process.*: resource attribute ${key} missing (one resource per process)`), key);
    }
    assert.ok(found.includes('process.*: process.executable.name is not the Name of /proc/<pid>/status'));
    assert.ok(found.includes('system.*: cumulative sums do not start at boot time'));
    assert.ok(found.includes('system.filesystem.*: file systems without a device (nodev types such as tmpfs) reported by default'));
    const onResource = compareToReference('hostmetrics', [point('process.memory.usage', { resource: { ...identity, 'process.executable.name': 'nginx' } })], machine);
    assert.ok(!onResource.some((d) => d.startsWith('process.*: resource attribute process.pid')));
    assert.ok(!onResource.some((d) => d.includes('executable.name is not')));
  });
});
