import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { memoryStates } from '../../internal/collector/memory/procfs';
import { cpuTimesFromOs, sumCpuTimes } from '../../internal/collector/cpu/portable';
import { mountsFromSi } from '../../internal/collector/filesystem/portable';
import { meminfoFromSi } from '../../internal/collector/memory/portable';
import { netDevFromSi } from '../../internal/collector/network/portable';
import { portableFactories, resolveBackend, selectFactories } from '../../internal/collector/registry';
import { createLogger } from '../../internal/log/logger';
import { startCollecting, testConfig } from '../support/collect';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function hostRoot(withProcStat: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'tfo-backend-'));
  dirs.push(root);
  if (withProcStat) {
    mkdirSync(join(root, 'proc'));
    writeFileSync(join(root, 'proc', 'stat'), 'cpu  1 0 1 1 0 0 0 0 0 0\n');
  }
  return root;
}

test('auto: procfs when /proc/stat is readable under the host root, else systeminformation', () => {
  const withStat = hostRoot(true);
  const without = hostRoot(false);
  assert.deepEqual(resolveBackend(testConfig({ host_root: withStat })), { backend: 'procfs', reason: `${withStat}/proc/stat is readable` });
  assert.deepEqual(resolveBackend(testConfig({ host_root: without })), { backend: 'systeminformation', reason: `${without}/proc/stat is not readable` });
  assert.equal(resolveBackend(testConfig({ host_root: without, collectors: { system: { backend: 'procfs' } } })).backend, 'procfs', 'a configured backend wins');
});

test('the choice is logged once, and the skipped families in one line with their reasons', () => {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  const config = testConfig({ host_root: hostRoot(false), collectors: { system: { disk: false } } });
  const selection = selectFactories(config, logger, 'linux');
  assert.equal(selection.backend, 'systeminformation');
  assert.deepEqual(lines.map((l) => l.event), ['collectors.backend', 'collectors.skipped']);
  // disk is off in the config, so it is not "skipped": only enabled families the backend cannot serve.
  assert.deepEqual(Object.keys(lines[1].skipped as object).sort(), ['network', 'pressure', 'processes']);
  assert.match(String(lines[1].msg), /cannot serve network, pressure, processes on linux/);
});

test('every portable family reuses the procfs family name and its enable flag', () => {
  const config = testConfig({ collectors: { system: { memory: false } } });
  for (const factory of portableFactories()) {
    assert.equal(factory.enabled(config), factory.name !== 'memory', factory.name);
  }
});

test('si memory figures map to meminfo fields; the semconv states still sum to the total', () => {
  const m = meminfoFromSi({
    total: 8000, free: 1000, used: 7000, active: 5000, available: 3000, buffers: 200, cached: 1500, slab: 400, buffcache: 2100,
    reclaimable: 300, swaptotal: 2000, swapused: 500, swapfree: 1500, writeback: 10, dirty: 20,
  });
  assert.equal(m.get('MemTotal'), 8000);
  assert.equal(m.get('MemAvailable'), 3000);
  assert.equal(m.get('SReclaimable'), 300);
  assert.equal(m.get('SUnreclaim'), 100);
  assert.equal(m.get('Dirty'), 20);
  const states = memoryStates(m, 'semconv');
  assert.equal(states.reduce((sum, [, bytes]) => sum + bytes, 0), 8000);
  assert.deepEqual(states.find(([s]) => s === 'used'), ['used', 5000]);
  // macOS: no slab, no dirty/writeback: those fields stay absent rather than zero.
  const mac = meminfoFromSi({
    total: 8000, free: 1000, used: 7000, active: 5000, available: 3000, buffers: 0, cached: 0, slab: 0, buffcache: 0,
    reclaimable: 0, swaptotal: 0, swapused: 0, swapfree: 0, writeback: null, dirty: null,
  });
  assert.equal(mac.has('SReclaimable'), false);
  assert.equal(mac.has('Dirty'), false);
});

test('libuv CPU milliseconds become seconds; per-CPU times sum', () => {
  const one = cpuTimesFromOs({ model: 'x', speed: 1000, times: { user: 1500, nice: 10, sys: 500, idle: 9000, irq: 20 } });
  assert.deepEqual(one, { user: 1.5, nice: 0.01, system: 0.5, idle: 9, irq: 0.02, iowait: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 });
  const both = sumCpuTimes([one, one]);
  assert.equal(both.user, 3);
  assert.equal(both.idle, 18);
});

test('si file systems become mount entries: read-only kept, the device names the file system', () => {
  const mounts = mountsFromSi([
    { fs: '/dev/disk1s1', type: 'apfs', size: 100, used: 40, available: 60, use: 40, mount: '/', rw: true },
    { fs: 'C:', type: 'NTFS', size: 100, used: 40, available: 60, use: 40, mount: 'C:', rw: null },
    { fs: '/dev/disk2', type: 'hfs', size: 100, used: 40, available: 60, use: 40, mount: '/Volumes/ro', rw: false },
  ]);
  assert.deepEqual(mounts.map((m) => [m.mountpoint, m.source, m.fstype, m.options[0], m.majorMinor]), [
    ['/', '/dev/disk1s1', 'apfs', 'rw', '/dev/disk1s1'],
    ['C:', 'C:', 'NTFS', 'rw', 'C:'],
    ['/Volumes/ro', '/dev/disk2', 'hfs', 'ro', '/dev/disk2'],
  ]);
});

test('si interface counters: what si lacks (packets) is NaN, which observe() drops', () => {
  const row = netDevFromSi({ iface: 'en0', rx_bytes: 10, tx_bytes: 20, rx_errors: 1, tx_errors: 2, rx_dropped: 3, tx_dropped: 4 });
  assert.equal(row.rxBytes, 10);
  assert.equal(row.txDropped, 4);
  assert.ok(Number.isNaN(row.rxPackets) && Number.isNaN(row.txPackets));
});

test('portable cpu: no utilization on the first collection, shares of the modes it knows after', async () => {
  const cpu = portableFactories().find((f) => f.name === 'cpu')!;
  const session = startCollecting(cpu, { config: { collectors: { system: { cpu_options: { utilization: true } } } } });
  try {
    const first = await session.collect();
    assert.equal(first.has('system.cpu.utilization'), false);
    const modes = first.points('system.cpu.time').map((p) => p.attributes['cpu.mode']);
    assert.deepEqual(modes.sort(), ['idle', 'interrupt', 'nice', 'system', 'user']);
    await new Promise((r) => setTimeout(r, 50));
    const second = await session.collect();
    const shares = second.points('system.cpu.utilization').map((p) => p.value);
    assert.ok(shares.length === 5 && shares.every((s) => s >= 0 && s <= 1), JSON.stringify(shares));
  } finally {
    await session.shutdown();
  }
});

test('portable memory and system leave out what only procfs has (detail, file descriptors)', async () => {
  const pick = (name: string) => portableFactories().find((f) => f.name === name)!;
  const memory = startCollecting(pick('memory'), { config: { collectors: { system: { memory_options: { detailed: true }, metrics: { 'system.memory.limit': true } } } } });
  const system = startCollecting(pick('system'));
  try {
    const m = await memory.collect();
    assert.equal(m.has('system.memory.linux.detail'), false);
    assert.ok(m.value('system.memory.limit') > 0);
    const s = await system.collect();
    assert.deepEqual(s.names, ['system.uptime']);
  } finally {
    await memory.shutdown();
    await system.shutdown();
  }
});
