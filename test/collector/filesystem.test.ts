import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { familyContext, type Collector, type CollectorContext } from '../../internal/collector/collector';
import { configuredSwitches } from '../../internal/collector/declaration';
import { family } from '../../internal/collector/filesystem/declaration';
import { FilesystemCollector, factory, filesystemPoints } from '../../internal/collector/filesystem/procfs';
import type { FsStats, StatfsFunction } from '../../internal/collector/statfs';
import { createLogger } from '../../internal/log/logger';
import { collectOnce, startCollecting, type Collection } from '../support/collect';
import { fixtureRoot, tempHostRoot } from '../support/host-root';

const NFS = fixtureRoot('procfs/nfs-client-5.4');

/** statfs answers by host path: 4 KiB blocks, sizes derived from the path so each differs. */
function fakeStatfs(root: string, calls: string[] = []): StatfsFunction {
  return async (local) => {
    const hostPath = local.slice(root.length) || '/';
    calls.push(hostPath);
    const blocks = (hostPath.length + 1) * 1_000_000;
    return { bsize: 4096, blocks, bfree: blocks / 2, bavail: blocks / 2 - 1000, files: 65536, ffree: 60000 } satisfies FsStats;
  };
}

const withStatfs = (statfs: StatfsFunction, logger?: CollectorContext['logger']) => (ctx: CollectorContext): Collector<typeof family.metrics> => {
  const collector: Collector<typeof family.metrics> = new FilesystemCollector(familyContext(family, logger === undefined ? ctx : { ...ctx, logger }), statfs);
  collector.switches = configuredSwitches(family, ctx.config, ctx.naming);
  return collector;
};

const mountpoints = (c: Collection, key = 'system.filesystem.mountpoint'): string[] =>
  [...new Set(c.get('system.filesystem.usage').points.map((p) => String(p.attributes[key])))].sort();

// system.filesystem.limit is opt-in in the conventions.
const WITH_LIMIT = { collectors: { system: { metrics: { 'system.filesystem.limit': true } } } };
const WITH_VIRTUAL = { collectors: { system: { metrics: { 'system.filesystem.limit': true }, filesystem_options: { include_virtual_filesystems: true } } } };

describe('filesystem collector', () => {
  it('leaves out file systems without a device by default (tmpfs, nfs, cifs: nodev in /proc/filesystems), as the Collector does', async () => {
    const c = await collectOnce(withStatfs(fakeStatfs(NFS)), { hostRoot: NFS });
    assert.deepEqual(mountpoints(c), ['/', '/boot', '/boot/efi', '/data', '/mnt/odd\ttab\\back', '/srv/raid']);
    const hostmetrics = await collectOnce(withStatfs(fakeStatfs(NFS)), { hostRoot: NFS, naming: 'hostmetrics' });
    assert.deepEqual(mountpoints(hostmetrics, 'mountpoint'), mountpoints(c));
  });

  it('a file system without a device that the config names (disk_paths, include_types) is reported', async () => {
    const only = (system: Record<string, unknown>) => collectOnce(withStatfs(fakeStatfs(NFS)), { hostRoot: NFS, config: { collectors: { system } } });
    assert.deepEqual(mountpoints(await only({ disk_paths: ['/mnt/nfs/home', '/run', '/data'] })), ['/data', '/mnt/nfs/home', '/run']);
    assert.deepEqual(mountpoints(await only({ filesystem_options: { include_types: ['nfs4', 'xfs'] } })), ['/data', '/mnt/nfs/home']);
  });

  it('a FUSE subtype counts as its base type; zfs, nodev in the list, lives on disks and is kept', async (t) => {
    const host = tempHostRoot();
    t.after(() => host.remove());
    host.write('/proc/filesystems', 'nodev\ttmpfs\nnodev\tfuse\n\tfuseblk\n\text4\nnodev\tzfs\n');
    host.write('/proc/1/mountinfo', [
      '20 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
      '21 20 0:40 / /mnt/ssh rw - fuse.sshfs user@server:/home rw',
      '22 20 0:41 / /mnt/ntfs rw - fuseblk /dev/sdb1 rw',
      '23 20 0:42 / /tank rw - zfs tank rw',
      '24 20 0:43 / /tmp rw - tmpfs tmpfs rw',
      '',
    ].join('\n'));
    const c = await collectOnce(withStatfs(fakeStatfs(host.root)), { hostRoot: host.root });
    assert.deepEqual(mountpoints(c), ['/', '/mnt/ntfs', '/tank']);
  });

  it('with include_virtual_filesystems, reports them too, one per device (NFS, CIFS, bind mounts)', async () => {
    const c = await collectOnce(withStatfs(fakeStatfs(NFS)), { hostRoot: NFS, config: WITH_VIRTUAL });
    assert.deepEqual(c.names, ['system.filesystem.limit', 'system.filesystem.usage', 'system.filesystem.utilization']);
    // Bind mounts of /data (/srv/www, /var/backups/nightly) fold into the shortest mount point;
    // pseudo, container and snap file systems, autofs and /dev, /proc, /sys are excluded.
    assert.deepEqual(mountpoints(c), [
      '/', '/boot', '/boot/efi', '/data', '/mnt/cifs/Finance Share', '/mnt/nfs/home', '/mnt/nfs/media library',
      '/mnt/odd\ttab\\back', '/run', '/run/lock', '/run/user/1000', '/srv/raid',
    ]);
    const data = { 'system.filesystem.mountpoint': '/data' };
    const blocks = 6_000_000;
    assert.equal(c.value('system.filesystem.usage', { ...data, 'system.filesystem.state': 'used' }), (blocks / 2) * 4096);
    assert.equal(c.value('system.filesystem.usage', { ...data, 'system.filesystem.state': 'free' }), (blocks / 2 - 1000) * 4096);
    assert.equal(c.value('system.filesystem.usage', { ...data, 'system.filesystem.state': 'reserved' }), 1000 * 4096);
    assert.equal(c.value('system.filesystem.limit', data), blocks * 4096);
    assert.equal(c.value('system.filesystem.utilization', { ...data, 'system.filesystem.state': 'used' }), 0.5);
    const point = c.point('system.filesystem.limit', data);
    assert.deepEqual(point.attributes, {
      'system.device': '/dev/mapper/vgdata-lvdata', 'system.filesystem.mode': 'rw',
      'system.filesystem.mountpoint': '/data', 'system.filesystem.type': 'xfs',
    });
    assert.equal(c.point('system.filesystem.limit', { 'system.filesystem.mountpoint': '/mnt/nfs/media library' }).attributes['system.filesystem.mode'], 'ro');
    assert.equal(c.point('system.filesystem.limit', { 'system.filesystem.type': 'cifs' }).attributes['system.device'], '//winsrv01.example.internal/Finance Share');
    assert.deepEqual([c.get('system.filesystem.usage').kind, c.get('system.filesystem.usage').unit], ['updowncounter', 'By']);
    assert.deepEqual([c.get('system.filesystem.utilization').kind, c.get('system.filesystem.utilization').unit], ['gauge', '1']);
  });

  it('uses the Collector\'s names and keys under hostmetrics, with inodes', async () => {
    const c = await collectOnce(withStatfs(fakeStatfs(NFS)), { hostRoot: NFS, naming: 'hostmetrics' });
    assert.deepEqual(c.names, ['system.filesystem.inodes.usage', 'system.filesystem.usage']);
    assert.equal(c.value('system.filesystem.usage', { mountpoint: '/data', state: 'used', device: '/dev/mapper/vgdata-lvdata', type: 'xfs', mode: 'rw' }), 3_000_000 * 4096);
    assert.equal(c.value('system.filesystem.inodes.usage', { mountpoint: '/data', state: 'used' }), 5536);
    assert.equal(c.value('system.filesystem.inodes.usage', { mountpoint: '/data', state: 'free' }), 60000);
    assert.equal(c.get('system.filesystem.inodes.usage').unit, '{inodes}');
  });

  it('selects by the TelemetryFlow disk_paths and by type, device and mount point', async () => {
    const only = (system: { disk_paths?: string[]; filesystem_options?: Record<string, unknown> }) => collectOnce(withStatfs(fakeStatfs(NFS)), {
      hostRoot: NFS,
      config: { collectors: { system: { ...system, filesystem_options: { include_virtual_filesystems: true, ...system.filesystem_options } } } },
    });
    assert.deepEqual(mountpoints(await only({ disk_paths: ['/srv/www', '/boot'] })), ['/boot', '/srv/www']);
    assert.deepEqual(mountpoints(await only({ filesystem_options: { include_types: ['nfs4', '/^cifs$/'] } })), ['/mnt/cifs/Finance Share', '/mnt/nfs/home']);
    const noRemote = await only({ filesystem_options: { exclude_devices: ['/^fileserver\\./', '//winsrv01.example.internal/Finance Share'], include_mountpoints: ['^/mnt/'] } });
    assert.deepEqual(mountpoints(noRemote), ['/mnt/odd\ttab\\back']);
    assert.deepEqual(mountpoints(await only({ filesystem_options: { exclude_types: [], exclude_mountpoints: ['^/(run|boot|mnt|srv|dev|sys|proc|net)', '^/var/lib/docker/'] } })), ['/', '/data', '/snap/core20/2015']);
  });

  it('in a container, reads the host through the host root and reports host paths', async (t) => {
    const host = tempHostRoot();
    t.after(() => host.remove());
    // The pod's own mountinfo, with the host's / mounted at this temp dir instead of /hostfs.
    const own = readFileSync(join(fixtureRoot('procfs/k8s-pod-6.1'), 'proc/self/mountinfo'), 'utf8');
    host.write('/proc/self/mountinfo', own.replaceAll('/hostfs', host.root));
    const calls: string[] = [];
    const c = await collectOnce(withStatfs(fakeStatfs(host.root, calls)), { hostRoot: host.root, config: WITH_LIMIT });
    assert.deepEqual(mountpoints(c), ['/', '/boot/efi', '/data', '/run']);
    assert.equal(c.point('system.filesystem.limit', { 'system.filesystem.mountpoint': '/data' }).attributes['system.device'], '/dev/nvme1n1');
    assert.deepEqual(calls.sort(), ['/', '/boot/efi', '/data', '/run'], 'statfs is called on root + host path');
  });

  it('calls the real statfs under the host root and skips mounts it cannot see', async (t) => {
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    t.after(() => host.remove());
    mkdirSync(join(host.root, 'dev/shm'), { recursive: true });
    const session = startCollecting(factory, { hostRoot: host.root, config: WITH_VIRTUAL });
    t.after(() => session.shutdown());
    const c = await session.collect();
    // "/" is the temp dir's file system; the tmpfs at /mnt/sandboxing/… does not exist there.
    assert.deepEqual(mountpoints(c), ['/']);
    const used = c.value('system.filesystem.usage', { 'system.filesystem.state': 'used' });
    const free = c.value('system.filesystem.usage', { 'system.filesystem.state': 'free' });
    const reserved = c.value('system.filesystem.usage', { 'system.filesystem.state': 'reserved' });
    assert.ok(used > 0 && free > 0 && reserved >= 0);
    assert.equal(used + free + reserved, c.value('system.filesystem.limit'));
    assert.equal((session.collector as FilesystemCollector).skipped.error, 1);
  });

  it('skips a hung mount after statfs_timeout, never stacks calls on it, and logs the streak once', async (t) => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: 'info', format: 'json',
      destination: new Writable({ write(chunk: Buffer, _e, done) { lines.push(JSON.parse(chunk.toString())); done(); } }),
    });
    const calls: string[] = [];
    const healthy = fakeStatfs(NFS, calls);
    let hung = true;
    let release: (() => void) | undefined;
    const statfs: StatfsFunction = (path) => {
      if (!hung || !path.endsWith('/mnt/nfs/home')) return healthy(path);
      calls.push('/mnt/nfs/home');
      // A dead NFS server: the call only returns when the test lets it.
      return new Promise((resolve) => (release = () => resolve({ bsize: 4096, blocks: 10, bfree: 5, bavail: 5, files: 0, ffree: 0 })));
    };
    const session = startCollecting(withStatfs(statfs, logger), { hostRoot: NFS, config: { collectors: { system: { filesystem_options: { statfs_timeout: 50, include_virtual_filesystems: true } } } } });
    t.after(() => session.shutdown());
    const fsCollector = session.collector as FilesystemCollector;

    const first = await session.collect();
    assert.ok(!mountpoints(first).includes('/mnt/nfs/home'));
    assert.ok(mountpoints(first).includes('/data'), 'the other mounts are reported');
    assert.deepEqual(fsCollector.skipped, { timeout: 1, pending: 0, error: 0 });

    await session.collect();
    await session.collect();
    assert.deepEqual(fsCollector.skipped, { timeout: 1, pending: 2, error: 0 });
    assert.equal(calls.filter((p) => p === '/mnt/nfs/home').length, 1, 'no second statfs while the first is pending');
    assert.equal(lines.filter((l) => l.event === 'collector.filesystem.statfs.failing').length, 1);

    // The server answers: the stuck call settles, the next cycle reports the mount again.
    hung = false;
    release?.();
    await new Promise((r) => setImmediate(r));
    const recovered = await session.collect();
    assert.ok(mountpoints(recovered).includes('/mnt/nfs/home'));
    assert.equal(calls.filter((p) => p === '/mnt/nfs/home').length, 2);
    assert.equal(lines.filter((l) => l.event === 'collector.filesystem.statfs.recovered').length, 1);
    assert.equal(lines.filter((l) => l.event === 'collector.filesystem.statfs.failing').length, 1);
  });
});

describe('filesystemPoints', () => {
  it('splits a file system into used, free and reserved that sum to its size', () => {
    const stats = { bsize: 4096, blocks: 1000, bfree: 300, bavail: 250, files: 0, ffree: 0 };
    const points = filesystemPoints(stats, 'semconv');
    const usage = [['usage', 700 * 4096, 'used'], ['usage', 250 * 4096, 'free'], ['usage', 50 * 4096, 'reserved'], ['limit', 1000 * 4096]];
    // semconv: utilization by the usage states, summing to 1; the Collector: used / size alone.
    assert.deepEqual(points, [...usage, ['utilization', 0.7, 'used'], ['utilization', 0.25, 'free'], ['utilization', 0.05, 'reserved']]);
    assert.deepEqual(filesystemPoints(stats, 'hostmetrics'), [...usage, ['utilization', 0.7]]);
    // No inode table (btrfs, vfat, most network file systems): no inode points, not zeros.
    assert.ok(!points.some(([key]) => key === 'inodes'));
  });
});
