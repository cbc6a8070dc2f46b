import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ParseError } from '../../internal/procfs/errors';
import { cpuFields, cpuPerCore, diskRateFields, memoryFields, networkRateFields, percent, tcpFields } from '../../internal/heartbeat/fields';
import { diskSpaceFields, partitionInfo } from '../../internal/heartbeat/filesystems';
import { interfaceInfo, primaryInterface } from '../../internal/heartbeat/interfaces';
import { tallyProcesses } from '../../internal/heartbeat/processes';
import { parseOsRelease, parsePageSize } from '../../internal/heartbeat/static-info';
import { parseMeminfo } from '../../internal/procfs/meminfo';
import { parseSnmp } from '../../internal/procfs/snmp';
import { cpuShares, modeShares } from '../../internal/procfs/cpu-shares';
import type { CpuTimes, PerCpuTimes } from '../../internal/procfs/stat';
import type { DiskStat } from '../../internal/procfs/diskstats';
import type { NetDevStat } from '../../internal/procfs/netdev';
import type { MountInfo } from '../../internal/procfs/mountinfo';
import { FIXTURES } from '../support/paths';

const times = (t: Partial<CpuTimes>): CpuTimes => ({ user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0, ...t });

describe('CPU percentages from the shares of an interval', () => {
  it('are the shares of the interval, not since boot, and sum to 100', () => {
    // Since boot the host was 90% idle; in the last interval it was 50% user, 25% system, 25% idle.
    const f = cpuFields(modeShares(times({ user: 100, system: 50, idle: 1350 }), times({ user: 102, system: 51, idle: 1351 }))!);
    assert.equal(f.cpuUserPercent, 50);
    assert.equal(f.cpuSystemPercent, 25);
    assert.equal(f.cpuIdlePercent, 25);
    assert.equal(f.cpuUsage, 75);
    const modes = f.cpuUserPercent! + f.cpuNicePercent! + f.cpuSystemPercent! + f.cpuIdlePercent! + f.cpuIowaitPercent! + f.cpuIrqPercent! + f.cpuSoftirqPercent! + f.cpuStealPercent!;
    assert.equal(modes, 100);
  });

  it('count guest time inside user, never on top', () => {
    const f = cpuFields(modeShares(times({}), times({ user: 4, guest: 3, idle: 4 }))!);
    assert.equal(f.cpuUserPercent, 50);
    assert.equal(f.cpuGuestPercent, 37.5);
    assert.equal(f.cpuIdlePercent, 50);
  });

  it('per core, matched by CPU number; a CPU that just came online is left out', () => {
    const stat = (perCpu: PerCpuTimes[]) => ({ total: times({}), perCpu });
    const shares = cpuShares(
      stat([{ cpu: 0, ...times({ user: 1, idle: 1 }) }, { cpu: 2, ...times({ idle: 5 }) }]),
      stat([{ cpu: 0, ...times({ user: 2, idle: 2 }) }, { cpu: 1, ...times({ user: 1 }) }, { cpu: 2, ...times({ system: 1, idle: 8 }) }]),
    );
    assert.deepEqual(cpuPerCore(shares.perCpu), [
      { coreId: 0, usage: 50, userPercent: 50, systemPercent: 0, idlePercent: 50 },
      { coreId: 2, usage: 25, userPercent: 0, systemPercent: 25, idlePercent: 75 },
    ]);
  });
});

describe('memory fields', () => {
  const meminfo = parseMeminfo(
    ['MemTotal: 1000 kB', 'MemFree: 100 kB', 'MemAvailable: 600 kB', 'Buffers: 10 kB', 'Cached: 300 kB', 'SwapTotal: 0 kB', 'SwapFree: 0 kB', 'Mlocked: 0 kB', 'Dirty: 0 kB', ''].join('\n'),
  );

  it('sends a known zero as 0: no swap is swapUsed 0, not an absent field', () => {
    const f = memoryFields(meminfo, new Map([['pswpin', 0], ['pswpout', 0], ['pgfault', 50], ['pgmajfault', 5]]), 4096);
    assert.equal(f.swapUsed, 0);
    assert.equal(f.swapTotal, 0);
    assert.equal(f.swapUsage, 0);
    assert.equal(f.swapIn, 0);
    assert.equal(f.memoryWired, 0);
    assert.equal(f.memoryDirty, 0);
    assert.equal(f.pageFaultsMajor, 5);
    assert.equal(f.pageFaultsMinor, 45);
    assert.equal(f.memoryUsed, 400 * 1024);
    assert.equal(f.memoryUsage, 40);
  });

  it('leaves out what this kernel does not report, rather than claiming 0', () => {
    const f = memoryFields(meminfo, undefined, 4096);
    assert.equal('memoryShared' in f, false);
    assert.equal('swapIn' in f, false);
  });

  it('swap in/out are bytes (pages × page size)', () => {
    const f = memoryFields(meminfo, new Map([['pswpin', 3], ['pswpout', 2]]), 16384);
    assert.equal(f.swapIn, 3 * 16384);
    assert.equal(f.swapOut, 2 * 16384);
  });
});

const disk = (name: string, d: Partial<DiskStat>): DiskStat => ({
  major: 8, minor: 0, name, readsCompleted: 0, readsMerged: 0, sectorsRead: 0, readTimeMs: 0, writesCompleted: 0, writesMerged: 0,
  sectorsWritten: 0, writeTimeMs: 0, ioInProgress: 0, ioTimeMs: 0, weightedIoTimeMs: 0, ...d,
});
const nic = (name: string, rxBytes: number, txBytes: number): NetDevStat => ({
  name, rxBytes, rxPackets: 0, rxErrors: 0, rxDropped: 0, rxFifo: 0, rxFrame: 0, rxCompressed: 0, rxMulticast: 0,
  txBytes, txPackets: 0, txErrors: 0, txDropped: 0, txFifo: 0, txCollisions: 0, txCarrier: 0, txCompressed: 0,
});

describe('rates from the previous reading', () => {
  it('IOPS and latency per operation over the interval', () => {
    const prev = [disk('sda', { readsCompleted: 100, writesCompleted: 50, readTimeMs: 1000, writeTimeMs: 500 })];
    const cur = [disk('sda', { readsCompleted: 120, writesCompleted: 70, readTimeMs: 1100, writeTimeMs: 540 })];
    assert.deepEqual(diskRateFields(prev, cur, 2), { diskIops: 20, diskLatencyRead: 5, diskLatencyWrite: 2 });
  });

  it('an idle disk has 0 IOPS and 0 latency (known), and a re-attached disk counts from its reset', () => {
    const idle = [disk('sda', { readsCompleted: 5 })];
    assert.deepEqual(diskRateFields(idle, idle, 10), { diskIops: 0, diskLatencyRead: 0, diskLatencyWrite: 0 });
    assert.equal(diskRateFields([disk('sdb', { readsCompleted: 1000 })], [disk('sdb', { readsCompleted: 10 })], 1).diskIops, 10);
  });

  it('network bytes per second, per interface; a new interface waits for its second reading', () => {
    const rates = networkRateFields([nic('eth0', 1000, 500)], [nic('eth0', 3000, 1500), nic('eth1', 9999, 9999)], 2);
    assert.deepEqual(rates, { networkBytesRecvRate: 1000, networkBytesSentRate: 500 });
  });
});

describe('small mappings', () => {
  it('every TCP state is present, 0 when no socket is in it', () => {
    const f = tcpFields(new Map([['established', 3], ['listen', 2], ['syn_received', 1]]));
    assert.equal(f.tcpConnectionsEstablished, 3);
    assert.equal(f.tcpConnectionsListen, 2);
    assert.equal(f.tcpConnectionsSynRecv, 1);
    assert.equal(f.tcpConnectionsClosing, 0);
    assert.equal(Object.keys(f).length, 10);
  });

  it('process states', () => {
    const f = tallyProcesses(['R', 'S', 'S', 'I', 'D', 'T', 't', 'Z', 'X'].map((state) => ({ state, numThreads: 2 })));
    assert.deepEqual(f, { processCount: 9, processRunning: 1, processSleeping: 3, processStopped: 2, processZombie: 1, processBlocked: 1, threadCount: 18 });
  });

  it('partitions df-style, and an empty set of partitions sums to 0', () => {
    const mount = { source: '/dev/sda1', mountpoint: '/', fstype: 'ext4' } as MountInfo;
    const p = partitionInfo(mount, { bsize: 4096, blocks: 100, bfree: 30, bavail: 20, files: 10, ffree: 4 });
    assert.deepEqual(p, { device: '/dev/sda1', mountpoint: '/', fstype: 'ext4', total: 409600, used: 286720, free: 81920, usage: 77.78, inodes: 10, inodesFree: 4, inodesUsage: 60 });
    assert.equal(diskSpaceFields([]).diskTotal, 0);
    assert.equal(diskSpaceFields([]).diskUsage, 0);
  });

  it('interfaces: no zero MAC on loopback, no speed on a virtual link, addresses in CIDR', () => {
    const lo = interfaceInfo(nic('lo', 5, 5), { address: '00:00:00:00:00:00', mtu: 65536, flags: 0x9 }, [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }]);
    assert.equal(lo.macAddress, undefined);
    assert.equal(lo.isLoopback, true);
    assert.equal(lo.isUp, true);
    assert.deepEqual(lo.ipAddresses, ['127.0.0.1/8']);
    const eth = interfaceInfo(nic('eth0', 1, 2), { address: '02:FC:00:00:00:01', mtu: 1500, speed: -1, flags: 0x1003 }, [
      { address: '192.0.2.2', netmask: '255.255.255.0', family: 'IPv4', mac: '02:fc:00:00:00:01', internal: false, cidr: '192.0.2.2/24' },
    ]);
    assert.equal(eth.macAddress, '02:fc:00:00:00:01');
    assert.equal(eth.speed, undefined);
    assert.deepEqual(primaryInterface([lo, eth]), { mac: '02:fc:00:00:00:01', ip: '192.0.2.2' });
  });

  it('percent stays within 0-100 and is 0 of nothing', () => {
    assert.equal(percent(1, 0), 0);
    assert.equal(percent(5, 4), 100);
    assert.equal(percent(1, 3), 33.33);
  });

  it('os-release and the page size', () => {
    assert.deepEqual(parseOsRelease('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n'), { id: 'ubuntu', family: 'debian', versionId: '24.04' });
    assert.deepEqual(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n'), { id: 'rocky', family: 'rhel', versionId: '9.4' });
    assert.deepEqual(parseOsRelease(''), { id: undefined, family: undefined, versionId: undefined });
    assert.equal(parsePageSize('55d0-55d2 r--p 0 fe:00 1 /usr/bin/x\nSize: 8 kB\nKernelPageSize:       64 kB\n'), 65536);
    assert.equal(parsePageSize('garbage'), undefined);
  });
});

describe('/proc/net/snmp', () => {
  it('parses a captured file: RetransSegs and negative MaxConn', () => {
    const text = readFileSync(join(FIXTURES, 'heartbeat', 'snmp-debian12-6.18.txt'), 'utf8');
    const counters = parseSnmp(text);
    assert.equal(counters.get('Tcp.MaxConn'), -1);
    assert.ok(Number.isInteger(counters.get('Tcp.RetransSegs')));
    assert.ok(counters.has('Udp.InDatagrams'));
  });

  it('keeps the complete pairs of a truncated file and refuses garbage or empty input', () => {
    const truncated = 'Tcp: RtoAlgorithm RetransSegs\nTcp: 1 42\nUdp: InDatagrams NoPorts\nUdp: 7';
    const counters = parseSnmp(truncated);
    assert.equal(counters.get('Tcp.RetransSegs'), 42);
    assert.equal(counters.has('Udp.InDatagrams'), false);
    assert.throws(() => parseSnmp(''), ParseError);
    assert.throws(() => parseSnmp('\x00\x01 binary junk\nno: pairs here'), ParseError);
  });
});
