import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { factory, memoryStates } from '../../internal/collector/memory/procfs';
import { parseMeminfo } from '../../internal/procfs/meminfo';
import { collectOnce } from '../support/collect';
import { fixtureRoot } from '../support/host-root';
import { FIXTURES } from '../support/paths';

const MACHINES = ['vm-6.18-2cpu', 'rhel6-2.6.32', 'container-lxcfs-5.4'];

function meminfo(machine: string): Map<string, number> {
  return parseMeminfo(readFileSync(join(FIXTURES, 'procfs', machine, 'proc/meminfo'), 'utf8'));
}

describe('memory collector', () => {
  for (const machine of MACHINES) {
    it(`semconv on ${machine}: used = total - available, the other states the kernel's figures`, async () => {
      const m = meminfo(machine);
      const c = await collectOnce(factory, { hostRoot: fixtureRoot(`procfs/${machine}`), config: { collectors: { system: { metrics: { 'system.memory.limit': true } } } } });
      const usage = c.get('system.memory.usage');
      assert.equal(usage.kind, 'updowncounter');
      assert.equal(usage.unit, 'By');
      assert.deepEqual(usage.points.map((p) => p.attributes['system.memory.state']).sort(), ['buffers', 'cached', 'free', 'used']);
      const limit = c.value('system.memory.limit');
      assert.equal(limit, m.get('MemTotal'));
      assert.equal(c.value('system.memory.usage', { 'system.memory.state': 'free' }), m.get('MemFree'));
      assert.equal(c.value('system.memory.usage', { 'system.memory.state': 'buffers' }), m.get('Buffers'));
      assert.equal(c.value('system.memory.usage', { 'system.memory.state': 'cached' }), m.get('Cached')! + (m.get('SReclaimable') ?? 0));
      const available = m.get('MemAvailable') ?? m.get('MemFree')! + m.get('Buffers')! + m.get('Cached')!;
      assert.equal(c.value('system.memory.usage', { 'system.memory.state': 'used' }), limit - available);
      assert.equal(c.value('system.memory.linux.available'), available);
      for (const p of c.get('system.memory.utilization').points) {
        assert.equal(p.value, c.value('system.memory.usage', p.attributes) / limit);
      }
      assert.equal(c.has('system.memory.linux.detail'), false);
    });
  }

  it('hostmetrics: the Collector\'s six states, valued as its gopsutil computes them', async () => {
    const m = meminfo('vm-6.18-2cpu');
    const c = await collectOnce(factory, { hostRoot: fixtureRoot('procfs/vm-6.18-2cpu'), naming: 'hostmetrics', config: { collectors: { system: { metrics: { 'system.linux.memory.available': true } } } } });
    const states = c.get('system.memory.usage').points.map((p) => p.attributes['state']).sort();
    assert.deepEqual(states, ['buffered', 'cached', 'free', 'slab_reclaimable', 'slab_unreclaimable', 'used']);
    // gopsutil (and free(1)) count reclaimable slab as cache, and used is what the rest leaves.
    const cached = m.get('Cached')! + m.get('SReclaimable')!;
    assert.equal(c.value('system.memory.usage', { state: 'cached' }), cached);
    assert.equal(c.value('system.memory.usage', { state: 'used' }), m.get('MemTotal')! - m.get('MemFree')! - m.get('Buffers')! - cached);
    assert.equal(c.value('system.memory.usage', { state: 'slab_reclaimable' }), m.get('SReclaimable'));
    assert.equal(c.value('system.memory.usage', { state: 'slab_unreclaimable' }), m.get('SUnreclaim'));
    // used, free, buffered and cached sum to total; the slab states overlap them, as in the Collector.
    const main = ['used', 'free', 'buffered', 'cached'].reduce((a, state) => a + c.value('system.memory.usage', { state }), 0);
    assert.equal(main, m.get('MemTotal'));
    assert.equal(c.value('system.linux.memory.available'), m.get('MemAvailable'));
    assert.equal(c.has('system.memory.linux.slab.usage'), false);
  });

  it('detailed mode reports meminfo fields as bytes', async () => {
    const m = meminfo('vm-6.18-2cpu');
    const c = await collectOnce(factory, { hostRoot: fixtureRoot('procfs/vm-6.18-2cpu'), config: { collectors: { system: { memory_options: { detailed: true, utilization: false }, metrics: { 'system.memory.linux.shared': true } } } } });
    assert.equal(c.value('system.memory.linux.detail', { 'system.memory.linux.field': 'Dirty' }), m.get('Dirty'));
    assert.equal(c.value('system.memory.linux.detail', { 'system.memory.linux.field': 'Active(anon)' }), m.get('Active(anon)'));
    assert.equal(c.points('system.memory.linux.detail', { 'system.memory.linux.field': 'HugePages_Total' }).length, 0);
    assert.equal(c.has('system.memory.utilization'), false);
    assert.equal(c.value('system.memory.linux.shared'), m.get('Shmem'));
    assert.equal(c.value('system.memory.linux.slab.usage', { 'system.memory.linux.slab.state': 'reclaimable' }), m.get('SReclaimable'));
  });

  it('semconv: MemAvailable below MemFree (watermark reserves) leaves every state the kernel\'s figure', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 400 kB\nMemAvailable: 300 kB\nBuffers: 50 kB\nCached: 100 kB\nSReclaimable: 20 kB\n');
    assert.deepEqual(Object.fromEntries(memoryStates(m, 'semconv')), { used: 700 * 1024, free: 400 * 1024, cached: 120 * 1024, buffers: 50 * 1024 });
  });

  it('hostmetrics: used is never negative when the kernel\'s figures overlap', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 500 kB\nBuffers: 100 kB\nCached: 350 kB\nSReclaimable: 80 kB\nSUnreclaim: 20 kB\n');
    assert.deepEqual(Object.fromEntries(memoryStates(m, 'hostmetrics')), {
      used: 0, free: 500 * 1024, buffers: 100 * 1024, cached: 430 * 1024, slab_reclaimable: 80 * 1024, slab_unreclaimable: 20 * 1024,
    });
  });

  it('agrees with this machine\'s /proc/meminfo', async () => {
    const c = await collectOnce(factory, { config: { collectors: { system: { metrics: { 'system.memory.limit': true } } } } });
    const m = parseMeminfo(readFileSync('/proc/meminfo', 'utf8'));
    assert.equal(c.value('system.memory.limit'), m.get('MemTotal'));
    // MemAvailable moves between the two reads; a few MiB is plenty on an idle test host.
    assert.ok(Math.abs(c.value('system.memory.linux.available') - m.get('MemAvailable')!) < 64 * 1024 * 1024);
  });
});
