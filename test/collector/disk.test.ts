import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiskCollector, factory } from '../../internal/collector/disk/procfs';
import { ManualClock, collectOnce, startCollecting } from '../support/collect';
import { fixtureRoot, tempHostRoot } from '../support/host-root';

const LVM = 'procfs/lvm-md-server-5.15';
const devices = (points: Array<{ attributes: Record<string, unknown> }>, key: string): string[] =>
  [...new Set(points.map((p) => String(p.attributes[key])))].sort();

describe('disk collector', () => {
  it('reports physical disks only by default, under semconv names (lvm + md server)', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot(LVM) });
    assert.deepEqual(c.names, ['system.disk.io', 'system.disk.io_time', 'system.disk.merged', 'system.disk.operation_time', 'system.disk.operations']);
    assert.deepEqual(devices(c.get('system.disk.io').points, 'system.device'), ['nvme0n1', 'sda', 'sdb', 'sr0']);
    const io = c.get('system.disk.io');
    assert.deepEqual([io.kind, io.unit], ['counter', 'By']);
    assert.equal(c.value('system.disk.io', { 'system.device': 'sda', 'disk.io.direction': 'read' }), 301988762 * 512);
    assert.equal(c.value('system.disk.io', { 'system.device': 'sda', 'disk.io.direction': 'write' }), 612334520 * 512);
    assert.equal(c.value('system.disk.operations', { 'system.device': 'sdb', 'disk.io.direction': 'read' }), 4101229);
    assert.equal(c.value('system.disk.merged', { 'system.device': 'sdb', 'disk.io.direction': 'write' }), 7712011);
    assert.equal(c.value('system.disk.io_time', { 'system.device': 'nvme0n1' }), 19123.441);
    assert.equal(c.value('system.disk.operation_time', { 'system.device': 'nvme0n1', 'disk.io.direction': 'write' }), 41233.122);
    assert.equal(c.get('system.disk.operations').unit, '{operation}');
    assert.equal(c.get('system.disk.io_time').unit, 's');
  });

  it('adds weighted_io_time and pending_operations under hostmetrics names and keys', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot(LVM), naming: 'hostmetrics' });
    assert.deepEqual(devices(c.get('system.disk.io').points, 'device'), ['nvme0n1', 'sda', 'sdb', 'sr0']);
    assert.equal(c.value('system.disk.io', { device: 'sda', direction: 'read' }), 301988762 * 512);
    assert.equal(c.value('system.disk.weighted_io_time', { device: 'sda' }), 25011.233);
    const pending = c.get('system.disk.pending_operations');
    assert.equal(pending.kind, 'updowncounter');
    assert.equal(c.value('system.disk.pending_operations', { device: 'nvme0n1' }), 3);
  });

  it('reports this VM\'s virtio disk and neither its loop nor its zram devices (captured files)', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot('procfs/vm-6.18-2cpu') });
    assert.deepEqual(devices(c.get('system.disk.io').points, 'system.device'), ['vda']);
    assert.ok(c.value('system.disk.io', { 'system.device': 'vda', 'disk.io.direction': 'read' }) > 0);
  });

  it('adds dm-* and md* with include_virtual, never partitions or loop devices', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot(LVM), config: { collectors: { system: { disk_options: { include_virtual: true } } } } });
    assert.deepEqual(devices(c.get('system.disk.io').points, 'system.device'), ['dm-0', 'dm-1', 'dm-2', 'md0', 'md127', 'nvme0n1', 'sda', 'sdb', 'sr0']);
  });

  it('filters by name and /regex/', async () => {
    const excluded = await collectOnce(factory, { hostRoot: fixtureRoot(LVM), config: { collectors: { system: { disk_options: { exclude: ['/^sd/', 'sr0'] } } } } });
    assert.deepEqual(devices(excluded.get('system.disk.io').points, 'system.device'), ['nvme0n1']);
    const included = await collectOnce(factory, { hostRoot: fixtureRoot(LVM), config: { collectors: { system: { disk_options: { include: ['/^(sdb|dm-2)$/'], include_virtual: true } } } } });
    assert.deepEqual(devices(included.get('system.disk.io').points, 'system.device'), ['dm-2', 'sdb']);
  });

  it('names the key and value of a bad pattern', () => {
    assert.throws(
      () => startCollecting(factory, { hostRoot: fixtureRoot(LVM), config: { collectors: { system: { disk_options: { exclude: ['/sd[/'] } } } } }),
      /collectors\.system\.disk_options\.exclude: "\/sd\[\/" is not a valid pattern/,
    );
  });

  it('without /sys under the host root, tells partitions by name', async (t) => {
    const host = tempHostRoot(LVM);
    t.after(() => host.remove());
    rmSync(join(host.root, 'sys'), { recursive: true });
    const c = await collectOnce(factory, { hostRoot: host.root });
    assert.deepEqual(devices(c.get('system.disk.io').points, 'system.device'), ['nvme0n1', 'sda', 'sdb', 'sr0']);
  });

  it('rebuilds the device list on the refresh schedule, and at once for a new device', async (t) => {
    const host = tempHostRoot(LVM);
    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, clock });
    t.after(async () => {
      await session.shutdown();
      host.remove();
    });
    const disk = session.collector as DiskCollector;
    await session.collect();
    assert.equal(disk.refreshes, 1);
    clock.advance(60_000);
    await session.collect();
    assert.equal(disk.refreshes, 1, 'not rebuilt before refresh_interval (5 min)');

    // A hot-plugged disk: a name the cache has never seen triggers a rebuild.
    const diskstats = readFileSync(join(host.root, 'proc/diskstats'), 'utf8');
    host.write('/proc/diskstats', `${diskstats}   8      32 sdc 10 0 80 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n`);
    host.write('/sys/block/sdc/dev', '8:32\n');
    const plugged = await session.collect();
    assert.equal(disk.refreshes, 2);
    assert.equal(plugged.value('system.disk.io', { 'system.device': 'sdc', 'disk.io.direction': 'read' }), 80 * 512);

    clock.advance(4 * 60_000);
    await session.collect();
    assert.equal(disk.refreshes, 2);
    clock.advance(60_000);
    await session.collect();
    assert.equal(disk.refreshes, 3, 'rebuilt once refresh_interval has passed since the last rebuild');
  });

  it('starts a new series when a device comes back with lower counters', async (t) => {
    const host = tempHostRoot(LVM);
    const session = startCollecting(factory, { hostRoot: host.root });
    t.after(async () => {
      await session.shutdown();
      host.remove();
    });
    const sda = { 'system.device': 'sda', 'disk.io.direction': 'read' };
    const diskstats = readFileSync(join(host.root, 'proc/diskstats'), 'utf8');
    const before = (await session.collect()).point('system.disk.io', sda);
    assert.equal(before.value, 301988762 * 512);

    host.write('/proc/diskstats', diskstats.split('\n').filter((l) => !/ sda /.test(l)).join('\n'));
    await sleep(5);
    await session.collect();
    host.write('/proc/diskstats', diskstats.replace(/ sda 4120331 183211 301988762 /, ' sda 120 3 2000 '));
    await sleep(5);
    const reappeared = (await session.collect()).point('system.disk.io', sda);
    assert.equal(reappeared.value, 2000 * 512, 'the replaced device\'s own count, not a negative or summed value');
    assert.ok(
      reappeared.startTime[0] * 1e9 + reappeared.startTime[1] > before.startTime[0] * 1e9 + before.startTime[1],
      'a new start time marks the reset',
    );
  });
});
