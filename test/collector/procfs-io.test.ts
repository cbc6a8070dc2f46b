import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ParseError } from '../../internal/procfs/errors';
import { HostFs } from '../../internal/procfs/host';
import { patternProblems } from '../../internal/collector/match';
import { defaultConfig } from '../../internal/config/defaults';
import { classifyBlockDevice, readWholeDisks } from '../../internal/procfs/block';
import { parseDiskstats } from '../../internal/procfs/diskstats';
import { parseVirtualFsTypes } from '../../internal/procfs/filesystems';
import { hostMounts, parseMountinfo } from '../../internal/procfs/mountinfo';
import { parseNetDev } from '../../internal/procfs/netdev';
import { parsePasswd } from '../../internal/procfs/passwd';
import { pageSizeFrom, parseCmdline, parsePidIo, parsePidStat, parsePidStatm, parsePidStatus } from '../../internal/procfs/pid';
import { TcpStateCounter, countTcpStates, readTcpStates } from '../../internal/procfs/tcp';
import { FIXTURES } from '../support/paths';

const fixture = (machine: string, file: string): string => readFileSync(join(FIXTURES, 'procfs', machine, file), 'utf8');
const VM = 'vm-6.18-2cpu';
const LVM = 'lvm-md-server-5.15';

describe('parseDiskstats', () => {
  it('reads every device of this VM, with the discard and flush columns of kernel 5.5+', () => {
    const stats = parseDiskstats(fixture(VM, 'proc/diskstats'));
    assert.deepEqual(stats.map((d) => d.name), ['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7', 'vda', 'zram0']);
    const vda = stats.find((d) => d.name === 'vda');
    assert.ok(vda);
    assert.equal(vda.major, 254);
    assert.ok(vda.readsCompleted > 0 && vda.sectorsRead > 0 && vda.writesCompleted > 0);
    assert.notEqual(vda.flushesCompleted, undefined);
    assert.notEqual(vda.discardsCompleted, undefined);
  });

  it('maps the columns in kernel order (lvm/md server)', () => {
    const sda = parseDiskstats(fixture(LVM, 'proc/diskstats')).find((d) => d.name === 'sda');
    assert.deepEqual(sda, {
      major: 8, minor: 0, name: 'sda',
      readsCompleted: 4120331, readsMerged: 183211, sectorsRead: 301988762, readTimeMs: 1893321,
      writesCompleted: 9812234, writesMerged: 7712331, sectorsWritten: 612334520, writeTimeMs: 23123411,
      ioInProgress: 0, ioTimeMs: 8123441, weightedIoTimeMs: 25011233,
      discardsCompleted: 0, discardsMerged: 0, sectorsDiscarded: 0, discardTimeMs: 0,
      flushesCompleted: 412331, flushTimeMs: 98123,
    });
  });

  it('accepts the 14 columns of kernels before 4.18', () => {
    const [d] = parseDiskstats('   8       0 sda 10 1 80 5 20 2 160 7 1 9 12\n');
    assert.equal(d.weightedIoTimeMs, 12);
    assert.equal(d.discardsCompleted, undefined);
    assert.equal(d.flushesCompleted, undefined);
  });

  it('rejects empty, truncated and garbage input with a ParseError', () => {
    assert.throws(() => parseDiskstats(''), ParseError);
    assert.throws(() => parseDiskstats('   8       0 sda 10 1 80 5 20'), /line 1: expected at least 14 columns/);
    assert.throws(() => parseDiskstats('   8       0 sda 10 1 80 5 20 2 160 7 1 9 x12'), /column 14 is not a counter/);
    assert.throws(() => parseDiskstats('\u0000\u0001garbage'), ParseError);
  });
});

describe('classifyBlockDevice', () => {
  it('tells disks from partitions, dm, md, loop and zram using the host /sys/block', async () => {
    const wholeDisks = await readWholeDisks(new HostFs(join(FIXTURES, 'procfs', LVM)));
    assert.ok(wholeDisks);
    const kinds = Object.fromEntries(parseDiskstats(fixture(LVM, 'proc/diskstats')).map((d) => [d.name, classifyBlockDevice(d.name, wholeDisks)]));
    assert.deepEqual(kinds, {
      sda: 'disk', sda1: 'partition', sda2: 'partition', sdb: 'disk', sdb1: 'partition', sdb2: 'partition',
      nvme0n1: 'disk', nvme0n1p1: 'partition', md127: 'md', md0: 'md', 'dm-0': 'dm', 'dm-1': 'dm', 'dm-2': 'dm',
      loop0: 'loop', loop1: 'loop', sr0: 'disk',
    });
  });

  it('falls back to the drivers\' partition names when /sys is not there', async () => {
    assert.equal(await readWholeDisks(new HostFs('/nonexistent-host-root')), undefined);
    for (const p of ['sda1', 'vdb3', 'xvda1', 'nvme0n1p2', 'mmcblk0p1']) assert.equal(classifyBlockDevice(p, undefined), 'partition', p);
    for (const d of ['sda', 'vdb', 'nvme0n1', 'mmcblk0']) assert.equal(classifyBlockDevice(d, undefined), 'disk', d);
    assert.equal(classifyBlockDevice('zram0', undefined), 'zram');
    assert.equal(classifyBlockDevice('ram0', undefined), 'ram');
    assert.equal(classifyBlockDevice('dm-3', undefined), 'dm');
  });
});

describe('parseMountinfo', () => {
  it('reads this VM\'s mounts', () => {
    const mounts = parseMountinfo(fixture(VM, 'proc/1/mountinfo'));
    const root = mounts.find((m) => m.mountpoint === '/');
    assert.ok(root);
    assert.equal(root.fstype, 'ext4');
    assert.equal(root.source, '/dev/vda');
    assert.equal(root.majorMinor, '254:0');
    assert.deepEqual(root.options, ['rw', 'relatime']);
    assert.ok(root.superOptions.includes('discard'));
  });

  it('decodes octal escapes and skips optional fields (NFS, CIFS, bind mounts)', () => {
    const mounts = parseMountinfo(fixture('nfs-client-5.4', 'proc/1/mountinfo'));
    const media = mounts.find((m) => m.mountId === 53);
    assert.deepEqual(
      { mountpoint: media?.mountpoint, fstype: media?.fstype, source: media?.source, options: media?.options },
      { mountpoint: '/mnt/nfs/media library', fstype: 'nfs', source: 'fileserver.example.internal:/export/media', options: ['ro', 'relatime'] },
    );
    const cifs = mounts.find((m) => m.fstype === 'cifs');
    assert.equal(cifs?.source, '//winsrv01.example.internal/Finance Share');
    assert.equal(cifs?.mountpoint, '/mnt/cifs/Finance Share');
    assert.equal(mounts.find((m) => m.mountId === 58)?.mountpoint, '/mnt/odd\ttab\\back');
    const bind = mounts.find((m) => m.mountpoint === '/srv/www');
    assert.deepEqual([bind?.root, bind?.majorMinor, bind?.parentId], ['/exports/www', '253:2', 30]);
  });

  it('keeps only the host\'s mounts of a container\'s own view, as host paths', () => {
    const own = parseMountinfo(fixture('k8s-pod-6.1', 'proc/self/mountinfo'));
    const host = hostMounts(own, '/hostfs/');
    assert.deepEqual(host.map((m) => m.mountpoint), [
      '/', '/dev', '/dev/pts', '/sys', '/proc', '/run', '/boot/efi', '/data',
      '/run/containerd/io.containerd.runtime.v2.task/k8s.io/5b1e0c6a/rootfs',
      '/var/lib/kubelet/pods/8d5c2f4e-1b7a-4c9e-9f3d-2a6b8e0c1d4f/volumes/kubernetes.io~projected/kube-api-access-7xk2p',
    ]);
    assert.equal(host[0].source, '/dev/nvme0n1p1');
    assert.equal(hostMounts(own, '/'), own);
  });

  it('rejects empty, truncated and garbage input with a ParseError', () => {
    assert.throws(() => parseMountinfo(''), ParseError);
    assert.throws(() => parseMountinfo('22 27 0:21 / /proc rw,relatime'), /line 1: not a mountinfo line/);
    assert.throws(() => parseMountinfo('x y 0:21 / /proc rw - proc proc rw'), /bad mount id/);
  });
});

describe('parseVirtualFsTypes', () => {
  it('reads the nodev types of this VM\'s /proc/filesystems', () => {
    const virtual = parseVirtualFsTypes(fixture(VM, 'proc/filesystems'));
    for (const type of ['tmpfs', 'proc', 'sysfs', 'overlay', 'fuse', 'devtmpfs', 'cgroup2']) assert.ok(virtual.has(type), type);
    for (const type of ['ext4', 'xfs', 'btrfs', 'squashfs', 'fuseblk', 'erofs']) assert.ok(!virtual.has(type), type);
  });

  it('counts network file systems as nodev, as the kernel lists them', () => {
    const virtual = parseVirtualFsTypes(fixture('nfs-client-5.4', 'proc/filesystems'));
    assert.deepEqual(['nfs', 'nfs4', 'cifs', 'vfat', 'ext4'].map((t) => virtual.has(t)), [true, true, true, false, false]);
  });

  it('rejects empty and garbage input with a ParseError', () => {
    for (const text of ['', ' \n\n', '\u0000\u0001binary\u00ff garbage {json: true}\n', 'nodev tmpfs\n', 'dev\text4\n']) {
      assert.throws(() => parseVirtualFsTypes(text), (err: unknown) => err instanceof ParseError && err.message.startsWith('/proc/filesystems'), JSON.stringify(text));
    }
  });
});

describe('parseNetDev', () => {
  it('reads this VM\'s interfaces', () => {
    const eth0 = parseNetDev(fixture(VM, 'proc/net/dev')).find((n) => n.name === 'eth0');
    assert.ok(eth0 && eth0.rxBytes > 0 && eth0.txPackets > 0);
  });

  it('splits at the colon when a big counter touches the name', () => {
    const stats = parseNetDev(fixture('web-frontend-5.10', 'proc/net/dev'));
    assert.deepEqual(stats.map((n) => n.name), ['lo', 'eno1', 'eno2', 'bond0', 'bond0.120', 'docker0', 'veth3f2a9c1']);
    const eno1 = stats[1];
    assert.deepEqual([eno1.rxBytes, eno1.rxPackets, eno1.rxDropped, eno1.rxMulticast, eno1.txBytes, eno1.txPackets], [4123344512331, 9123344123, 1123, 412334, 28123344512, 7123344123]);
    assert.equal(stats[2].rxErrors, 3);
    assert.equal(stats[2].rxFrame, 3);
  });

  it('rejects empty, truncated and garbage input with a ParseError', () => {
    const header = fixture(VM, 'proc/net/dev').split('\n').slice(0, 2).join('\n');
    assert.throws(() => parseNetDev(''), /missing the two header lines/);
    assert.throws(() => parseNetDev(`${header}\n  eth0: 1 2 3`), /line 3/);
    assert.throws(() => parseNetDev(`${header}\n  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16`), /line 3/);
  });
});

describe('countTcpStates', () => {
  it('counts a busy web server\'s IPv4 and IPv6 tables by state', () => {
    const counts = countTcpStates(fixture('web-frontend-5.10', 'proc/net/tcp'));
    assert.deepEqual(Object.fromEntries(counts), {
      listen: 5, established: 412, time_wait: 131, close_wait: 7, syn_received: 6, fin_wait_1: 3,
      fin_wait_2: 22, last_ack: 2, syn_sent: 2, closing: 1, closed: 1,
    });
    countTcpStates(fixture('web-frontend-5.10', 'proc/net/tcp6'), '/proc/net/tcp6', counts);
    assert.equal(counts.get('established'), 412 + 96);
    assert.equal(counts.get('listen'), 5 + 3);
    assert.equal(counts.get('time_wait'), 131 + 40);
  });

  it('reads this VM\'s tables, including a header-only one', () => {
    assert.equal(countTcpStates(fixture(VM, 'proc/net/tcp')).get('listen'), 1);
    assert.equal(countTcpStates(fixture(VM, 'proc/net/tcp6'), '/proc/net/tcp6').size, 0);
  });

  it('counts the same when the table arrives in pieces that cut lines anywhere', async () => {
    const text = fixture('web-frontend-5.10', 'proc/net/tcp');
    const counter = new TcpStateCounter('/proc/net/tcp');
    for (let i = 0; i < text.length; i += 37) counter.push(text.slice(i, i + 37));
    assert.deepEqual(counter.end(), countTcpStates(text));
    const both = await readTcpStates(new HostFs(join(FIXTURES, 'procfs', 'web-frontend-5.10')));
    assert.equal(both.get('established'), 412 + 96);
    assert.deepEqual(Object.fromEntries(await readTcpStates(new HostFs('/nonexistent-host-root'))), {});
  });

  it('finds the state when the slot number outgrows its four columns', () => {
    const header = fixture(VM, 'proc/net/tcp').split('\n')[0];
    const line = '10000: 1103000A:01BB BA7100CB:CF31 01 00000000:00000000 02:0000166B 00000000    33        0 100009 1 0000000000000000 20 4 30 10 -1';
    assert.deepEqual(Object.fromEntries(countTcpStates(`${header}\n${line}\n`)), { established: 1 });
  });

  it('rejects empty, truncated and garbage input with a ParseError', () => {
    const header = fixture(VM, 'proc/net/tcp').split('\n')[0];
    assert.throws(() => countTcpStates(''), ParseError);
    assert.throws(() => countTcpStates(`${header}\n   0: 00000000:07E8`), /line 2: no TCP state/);
    assert.throws(() => countTcpStates(`${header}\n   0: 00000000:07E8 00000000:0000 ZZ 0`), /no TCP state/);
  });
});

describe('per-process files', () => {
  it('reads a stat whose name holds spaces and parentheses', () => {
    const stat = parsePidStat(fixture(VM, 'proc/18089/stat'));
    assert.equal(stat.pid, 18089);
    assert.equal(stat.comm, 'tfo (x) a) b');
    assert.equal(stat.state, 'S');
    assert.equal(stat.ppid, 18017);
    assert.equal(stat.numThreads, 1);
    assert.equal(stat.startTicks, 176135);
    assert.equal(stat.vsizeBytes, 2990080);
    assert.equal(stat.rssPages, 364);
    assert.deepEqual([stat.minorFaults, stat.majorFaults], [139, 0]);
    assert.equal(stat.kernelThread, false);
  });

  it('recognises a kernel thread', () => {
    const stat = parsePidStat(fixture(VM, 'proc/2/stat'));
    assert.equal(stat.comm, 'kthreadd');
    assert.equal(stat.kernelThread, true);
  });

  it('converts clock ticks to seconds', () => {
    const stat = parsePidStat('7 (x) R 1 7 7 0 -1 4194560 0 0 0 0 250 75 0 0 20 0 3 0 99 4096 10');
    assert.deepEqual([stat.userSeconds, stat.systemSeconds, stat.numThreads], [2.5, 0.75, 3]);
    assert.equal(stat.blkioDelaySeconds, 0, 'no field 42 (before 2.6.18): no block I/O wait');
    const full = parsePidStat('7 (x) R 1 7 7 0 -1 4194560 0 0 0 0 250 75 0 0 20 0 3 0 99 4096 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 37 0 0');
    assert.equal(full.blkioDelaySeconds, 0.37, 'field 42, delayacct_blkio_ticks');
  });

  it('reads status, io and cmdline', () => {
    const status = parsePidStatus(fixture(VM, 'proc/18089/status'));
    assert.equal(status.name, 'tfo (x) a) b');
    assert.equal(status.uid, 0);
    assert.equal(status.threads, 1);
    assert.ok((status.vmRssBytes ?? 0) > 0);
    assert.deepEqual([status.voluntaryContextSwitches, status.involuntaryContextSwitches], [1, 2]);
    assert.equal(parsePidStatus('Name:\tx\nUid:\t0\t0\t0\t0\nThreads:\t1\n').voluntaryContextSwitches, undefined, 'before 2.6.23');
    assert.equal(parsePidStatus(fixture(VM, 'proc/2/status')).vmRssBytes, undefined);
    assert.deepEqual(parsePidIo(fixture(VM, 'proc/18089/io')), { readBytes: 0, writeBytes: 0 });
    assert.deepEqual(parsePidIo('rchar: 9\nwchar: 3\nsyscr: 1\nsyscw: 1\nread_bytes: 8192\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n'), { readBytes: 8192, writeBytes: 4096 });
    const args = parseCmdline(fixture(VM, 'proc/1/cmdline'));
    assert.equal(args[0], '/process_api');
    assert.ok(args.length > 3);
    assert.deepEqual(parseCmdline(''), []);
    assert.deepEqual(parseCmdline('nginx: worker process\0\0'), ['nginx: worker process', '']);
  });

  it('reads the exact resident set from statm, where stat gives the unsummed approximation', () => {
    // One idle bash read at once: stat says 502 pages, statm and VmRSS 549 (2196 kB).
    const statm = parsePidStatm(fixture(VM, 'proc/1306/statm'));
    const status = parsePidStatus(fixture(VM, 'proc/1306/status'));
    assert.deepEqual(statm, { sizePages: 1189, residentPages: 549 });
    assert.equal(statm.residentPages * 4096, status.vmRssBytes);
    assert.equal(parsePidStat(fixture(VM, 'proc/1306/stat')).rssPages, 502);
    assert.equal(pageSizeFrom(statm.residentPages, status.vmRssBytes ?? 0), 4096);
    assert.throws(() => parsePidStatm(''), ParseError);
    assert.throws(() => parsePidStatm('1189'), ParseError);
  });

  it('rejects empty and truncated files with a ParseError', () => {
    assert.throws(() => parsePidStat(''), ParseError);
    assert.throws(() => parsePidStat('7 (x) R 1 7 7 0 -1 4194560 0 0 0 0 250'), /field 15 missing/);
    assert.throws(() => parsePidStatus(''), ParseError);
    assert.throws(() => parsePidStatus('Name:\tx\nUmask:\t0022\n'), ParseError);
    assert.throws(() => parsePidIo('rchar: 9\n'), ParseError);
  });

  it('maps uids to user names', () => {
    const users = parsePasswd('root:x:0:0:root:/root:/bin/bash\n# comment\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\nbroken line\n\n');
    assert.deepEqual([...users], [[0, 'root'], [33, 'www-data']]);
  });
});

describe('patternProblems', () => {
  it('names every pattern that does not compile, with its key, index and value', () => {
    const config = defaultConfig();
    config.collectors.system.disk_options.exclude = ['sda', '/sd[/'];
    config.collectors.system.filesystem_options.exclude_mountpoints = ['^/dev($|/)', '^/mnt/(nfs'];
    config.collectors.process.processes = ['nginx', '/(?<x>y)/', '/a{2,1}/'];
    const problems = patternProblems(config);
    assert.deepEqual(problems.map((p) => [p.path, p.value]), [
      ['collectors.system.disk_options.exclude.1', '/sd[/'],
      ['collectors.system.filesystem_options.exclude_mountpoints.1', '^/mnt/(nfs'],
      ['collectors.process.processes.2', '/a{2,1}/'],
    ]);
    assert.match(problems[1].message, /^is not a valid regular expression: /);
    assert.match(problems[0].message, /^is not a valid name or \/regex\/: /);
    assert.deepEqual(patternProblems(defaultConfig()), []);
  });
});
