// The procfs backend against the systeminformation backend on this machine, family by family,
// both collected at the same moment. systeminformation is forced here the way an operator forces
// it on Linux (collectors.system.backend); on macOS and Windows it is the only source.
// Network and processes are built directly: the registry skips them on Linux because si would
// spawn a process per cycle there, which a test may do once.
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { test } from 'node:test';
import { silentLogger } from '../../internal/log/logger';
import { allFactories, portableFactories, selectFactories } from '../../internal/collector/registry';
import type { CollectorFactory } from '../../internal/collector/collector';
import type { NamingProfile } from '../../internal/config/types';
import { testConfig } from '../support/collect';
import { assertBracketed, assertNear, collectFamilies, total } from './support';

const MB = 2 ** 20;

function pick(list: CollectorFactory[], names: string[]): CollectorFactory[] {
  return names.map((name) => {
    const found = list.find((f) => f.name === name);
    assert.ok(found, `family ${name} missing`);
    return found;
  });
}

/** Both backends' collections of `names`, taken concurrently. */
async function both(names: string[], naming: NamingProfile = 'semconv') {
  const [procfs, portable] = await Promise.all([
    collectFamilies(pick(allFactories(), names), { naming }),
    collectFamilies(pick(portableFactories(), names), { naming }),
  ]);
  return { procfs, portable };
}

/** systeminformation, then procfs, then systeminformation again: for counters that move fast. */
async function around(names: string[], naming: NamingProfile) {
  const before = await collectFamilies(pick(portableFactories(), names), { naming });
  const procfs = await collectFamilies(pick(allFactories(), names), { naming });
  const after = await collectFamilies(pick(portableFactories(), names), { naming });
  return { before, procfs, after };
}

test('the registry serves the same families from systeminformation, skipping with one reason each', () => {
  const config = testConfig({ collectors: { system: { backend: 'systeminformation' } } });
  const linux = selectFactories(config, silentLogger(), 'linux');
  assert.equal(linux.backend, 'systeminformation');
  assert.deepEqual(linux.factories.map((f) => f.name).sort(), ['cpu', 'filesystem', 'load', 'memory', 'paging', 'system']);
  assert.deepEqual(Object.fromEntries(linux.skipped.map((s) => [s.family, s.reason.split(' ')[0]])), {
    disk: 'no', network: 'si.networkStats', pressure: 'no', processes: 'si.processes',
  });
  const darwin = selectFactories(config, silentLogger(), 'darwin');
  assert.deepEqual(darwin.factories.map((f) => f.name).sort(), ['cpu', 'filesystem', 'load', 'memory', 'network', 'paging', 'processes', 'system']);
  const windows = selectFactories(config, silentLogger(), 'win32');
  assert.ok(windows.skipped.some((s) => s.family === 'load'), 'no load average on Windows');
  const auto = selectFactories(testConfig({ collectors: { system: { backend: 'auto' } } }), silentLogger());
  assert.equal(auto.backend, 'procfs', '/proc/stat is readable here');
});

test('cpu: time per mode between two readings of the other backend, same counts', async () => {
  // hostmetrics naming: its `interrupt` is irq alone, which is what libuv reports.
  const { before, procfs, after } = await around(['cpu'], 'hostmetrics');
  // libuv sums the per-CPU lines, procfs reads the total line: one tick (10 ms) per CPU apart.
  const tick = 0.01 * cpus().length;
  for (const state of ['user', 'nice', 'system', 'idle', 'interrupt']) {
    const match = { state };
    assertBracketed(`cpu ${state}`, total(procfs, 'system.cpu.time', match), total(before, 'system.cpu.time', match), total(after, 'system.cpu.time', match), tick);
  }
  assert.equal(total(before, 'system.cpu.logical.count'), total(procfs, 'system.cpu.logical.count'));
  // procfs leaves physical count out when cpuinfo has no topology (some VMs, arm64): compare when known.
  const physical = total(procfs, 'system.cpu.physical.count');
  if (physical !== undefined) assert.equal(total(before, 'system.cpu.physical.count'), physical);
  assert.equal(total(before, 'system.cpu.time', { state: 'wait' }), undefined, 'modes libuv does not know are left out, not zero');
});

test('memory: limit exact; available, free, used within 8 MB; used and available make the limit', async () => {
  const { procfs, portable } = await both(['memory']);
  assert.equal(total(portable, 'system.memory.limit'), total(procfs, 'system.memory.limit'));
  assertNear('available', total(portable, 'system.memory.linux.available'), total(procfs, 'system.memory.linux.available'), 8 * MB);
  for (const state of ['used', 'free', 'cached', 'buffers']) {
    const match = { 'system.memory.state': state };
    assertNear(`usage ${state}`, total(portable, 'system.memory.usage', match), total(procfs, 'system.memory.usage', match), 8 * MB);
  }
  // The states overlap (cache the kernel cannot drop is used and cached); used is what available leaves.
  const used = total(portable, 'system.memory.usage', { 'system.memory.state': 'used' }) ?? Number.NaN;
  assert.equal(used + (total(portable, 'system.memory.linux.available') ?? Number.NaN), total(portable, 'system.memory.limit'));
});

test('load and uptime: the same kernel figures through os.loadavg and os.uptime', async () => {
  const { procfs, portable } = await both(['load', 'system']);
  // sysinfo(2) gives load in 1/65536 steps, /proc/loadavg rounds to 0.01.
  for (const window of ['1m', '5m', '15m']) {
    assertNear(`load ${window}`, total(portable, `system.cpu.load_average.${window}`), total(procfs, `system.cpu.load_average.${window}`), 0.01);
  }
  assertNear('uptime', total(portable, 'system.uptime'), total(procfs, 'system.uptime'), 1);
});

test('filesystem: the same mountpoints and sizes; paging: the same swap total', async () => {
  const { procfs, portable } = await both(['filesystem', 'paging']);
  const mounts = (c: typeof procfs): string[] => [...new Set(c.points('system.filesystem.usage').map((p) => String(p.attributes['system.filesystem.mountpoint'])))].sort();
  // df (behind si.fsSize) leaves out some pseudo file systems that mountinfo lists; every
  // mount si reports must be one procfs reports, with the same figures.
  assert.equal(mounts(portable).includes('/'), mounts(procfs).includes('/'), 'the root file system in both or neither');
  assert.deepEqual(mounts(portable).filter((m) => !mounts(procfs).includes(m)), []);
  for (const mountpoint of mounts(portable)) {
    const m = { 'system.filesystem.mountpoint': mountpoint };
    assert.equal(total(portable, 'system.filesystem.limit', m), total(procfs, 'system.filesystem.limit', m), `${mountpoint} size`);
    assertNear(`${mountpoint} used`, total(portable, 'system.filesystem.usage', { ...m, 'system.filesystem.state': 'used' }), total(procfs, 'system.filesystem.usage', { ...m, 'system.filesystem.state': 'used' }), 8 * MB);
  }
  const swap = (c: typeof procfs): number => (c.has('system.paging.usage') ? (total(c, 'system.paging.usage') ?? 0) : 0);
  assert.equal(swap(portable), swap(procfs));
});

test('network and processes through si (built directly: the registry skips them on Linux)', async () => {
  const { procfs, portable } = await both(['network', 'processes']);
  const interfaces = (c: typeof procfs): string[] => [...new Set(c.points('system.network.io').map((p) => String(p.attributes['network.interface.name'])))];
  for (const name of interfaces(portable)) {
    for (const direction of ['receive', 'transmit']) {
      const match = { 'network.interface.name': name, 'network.io.direction': direction };
      // Traffic between the two reads, none of it this test's (lo is excluded): 1 MB.
      assertNear(`${name} ${direction}`, total(portable, 'system.network.io', match), total(procfs, 'system.network.io', match), MB);
    }
  }
  assert.ok(interfaces(portable).every((name) => interfaces(procfs).includes(name)));
  assert.equal(portable.has('system.network.packet.count'), false, 'si has no packet counts: none reported');
  // si counts what `ps` lists, procfs every /proc/<pid>: ps cannot see more than /proc holds.
  const portableCount = total(portable, 'system.process.count') ?? 0;
  const procfsCount = total(procfs, 'system.process.count') ?? 0;
  assert.ok(portableCount > 0 && portableCount <= procfsCount + 10, `process count ${portableCount} vs ${procfsCount}`);
});
