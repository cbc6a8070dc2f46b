// Pure mappings from parsed kernel files to heartbeat fields. Rates and percentages take the
// previous reading explicitly; nothing here reads a file or a clock.
import type { CpuCoreInfo, SystemInfo } from '../../pkg/heartbeat';
import { memAvailable, type Meminfo } from '../procfs/meminfo';
import type { CpuMode, ModeShares, StatShares } from '../procfs/cpu-shares';
import { DISKSTATS_SECTOR_BYTES, type DiskStat } from '../procfs/diskstats';
import type { NetDevStat } from '../procfs/netdev';

/** A percentage with two decimals, kept inside 0–100. */
export function percent(part: number, whole: number): number {
  if (!(whole > 0)) return 0;
  return Math.round(Math.min(100, Math.max(0, (100 * part) / whole)) * 100) / 100;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

/** A summing function over `items`: `sumOf(disks)((d) => d.readsCompleted)`. */
export function sumOf<T>(items: readonly T[]): (pick: (item: T) => number) => number {
  return (pick) => items.reduce((acc, item) => acc + pick(item), 0);
}

type CpuFields = Pick<
  SystemInfo,
  | 'cpuUsage' | 'cpuUserPercent' | 'cpuSystemPercent' | 'cpuIdlePercent' | 'cpuIowaitPercent' | 'cpuStealPercent'
  | 'cpuGuestPercent' | 'cpuIrqPercent' | 'cpuSoftirqPercent' | 'cpuNicePercent'
>;

/** The heartbeat's CPU percentages from the shares of one interval (procfs/cpu-shares.ts). */
export function cpuFields(shares: ModeShares): CpuFields {
  const share = (mode: CpuMode): number => percent(shares[mode], 1);
  return {
    cpuUsage: percent(shares.busy, 1),
    cpuUserPercent: share('user'),
    cpuSystemPercent: share('system'),
    cpuIdlePercent: share('idle'),
    cpuIowaitPercent: share('iowait'),
    cpuStealPercent: share('steal'),
    // Guest time is part of user (and nice) already; reported on its own, never added.
    cpuGuestPercent: share('guest'),
    cpuIrqPercent: share('irq'),
    cpuSoftirqPercent: share('softirq'),
    cpuNicePercent: share('nice'),
  };
}

/** Per logical CPU over the same interval: the CPUs that cpuShares measured. */
export function cpuPerCore(perCpu: StatShares['perCpu']): CpuCoreInfo[] {
  return [...perCpu].map(([coreId, shares]) => ({
    coreId,
    usage: percent(shares.busy, 1),
    userPercent: percent(shares.user, 1),
    systemPercent: percent(shares.system, 1),
    idlePercent: percent(shares.idle, 1),
  }));
}

type MemoryFields = Pick<
  SystemInfo,
  | 'memoryTotal' | 'memoryUsed' | 'memoryAvailable' | 'memoryFree' | 'memoryUsage' | 'memoryCached' | 'memoryBuffers'
  | 'memoryActive' | 'memoryInactive' | 'memoryWired' | 'memoryShared' | 'memorySlab' | 'memoryPageTables'
  | 'memoryCommitted' | 'memoryCommitLimit' | 'memoryDirty' | 'memoryWriteback'
  | 'swapTotal' | 'swapUsed' | 'swapFree' | 'swapUsage' | 'swapIn' | 'swapOut' | 'pageFaultsMajor' | 'pageFaultsMinor'
>;

// Optional meminfo lines: a kernel without one leaves the field out rather than claiming 0.
const MEMINFO_OPTIONAL: Array<[keyof MemoryFields, string]> = [
  ['memoryActive', 'Active'],
  ['memoryInactive', 'Inactive'],
  ['memoryWired', 'Mlocked'],
  ['memoryShared', 'Shmem'],
  ['memorySlab', 'Slab'],
  ['memoryPageTables', 'PageTables'],
  ['memoryCommitted', 'Committed_AS'],
  ['memoryCommitLimit', 'CommitLimit'],
  ['memoryDirty', 'Dirty'],
  ['memoryWriteback', 'Writeback'],
];

/**
 * Memory and swap from /proc/meminfo, paging counters from /proc/vmstat. used = total − available
 * (as system.memory.usage), swap used = SwapTotal − SwapFree; swap in/out are pages × page size.
 */
export function memoryFields(meminfo: Meminfo, vmstat: Map<string, number> | undefined, pageSize: number): MemoryFields {
  const total = meminfo.get('MemTotal')!;
  const available = Math.min(total, memAvailable(meminfo));
  const swapTotal = meminfo.get('SwapTotal') ?? 0;
  const swapFree = Math.min(swapTotal, meminfo.get('SwapFree') ?? 0);
  const fields: MemoryFields = {
    memoryTotal: total,
    memoryUsed: total - available,
    memoryAvailable: available,
    memoryFree: meminfo.get('MemFree') ?? 0,
    memoryUsage: percent(total - available, total),
    memoryCached: meminfo.get('Cached') ?? 0,
    memoryBuffers: meminfo.get('Buffers') ?? 0,
    swapTotal,
    swapUsed: swapTotal - swapFree,
    swapFree,
    swapUsage: percent(swapTotal - swapFree, swapTotal),
  };
  for (const [field, key] of MEMINFO_OPTIONAL) {
    const value = meminfo.get(key);
    if (value !== undefined) fields[field] = value;
  }
  if (vmstat !== undefined) {
    const pswpin = vmstat.get('pswpin');
    const pswpout = vmstat.get('pswpout');
    const major = vmstat.get('pgmajfault');
    const all = vmstat.get('pgfault');
    if (pswpin !== undefined) fields.swapIn = pswpin * pageSize;
    if (pswpout !== undefined) fields.swapOut = pswpout * pageSize;
    if (major !== undefined) fields.pageFaultsMajor = major;
    // pgfault counts every fault, major ones included.
    if (all !== undefined && major !== undefined) fields.pageFaultsMinor = Math.max(0, all - major);
  }
  return fields;
}

type DiskIoFields = Pick<
  SystemInfo,
  | 'diskReadBytes' | 'diskWriteBytes' | 'diskReadOps' | 'diskWriteOps' | 'diskReadTime' | 'diskWriteTime'
  | 'diskIoTime' | 'diskWeightedIo' | 'diskIoInProgress'
>;

/** Totals over the given devices (the caller passes physical disks only: no partitions, dm, md). */
export function diskIoFields(disks: readonly DiskStat[]): DiskIoFields {
  const sum = sumOf(disks);
  return {
    diskReadBytes: sum((d) => d.sectorsRead) * DISKSTATS_SECTOR_BYTES,
    diskWriteBytes: sum((d) => d.sectorsWritten) * DISKSTATS_SECTOR_BYTES,
    diskReadOps: sum((d) => d.readsCompleted),
    diskWriteOps: sum((d) => d.writesCompleted),
    diskReadTime: sum((d) => d.readTimeMs),
    diskWriteTime: sum((d) => d.writeTimeMs),
    diskIoTime: sum((d) => d.ioTimeMs),
    diskWeightedIo: sum((d) => d.weightedIoTimeMs),
    diskIoInProgress: sum((d) => d.ioInProgress),
  };
}

/**
 * The increase of `pick` summed over items present in both readings. An item whose counter went
 * down (device re-attached, interface recreated) contributes its count since the reset.
 */
function summedIncrease<T>(prev: readonly T[], cur: readonly T[], key: (item: T) => string, pick: (item: T) => number): number {
  const before = new Map(prev.map((item) => [key(item), pick(item)]));
  let total = 0;
  for (const item of cur) {
    const then = before.get(key(item));
    if (then === undefined) continue;
    const now = pick(item);
    total += now >= then ? now - then : now;
  }
  return total;
}

/** IOPS and mean latency per operation over `seconds` between two diskstats readings. */
export function diskRateFields(prev: readonly DiskStat[], cur: readonly DiskStat[], seconds: number): Pick<SystemInfo, 'diskIops' | 'diskLatencyRead' | 'diskLatencyWrite'> {
  const inc = (pick: (d: DiskStat) => number): number => summedIncrease(prev, cur, (d) => d.name, pick);
  const reads = inc((d) => d.readsCompleted);
  const writes = inc((d) => d.writesCompleted);
  return {
    diskIops: seconds > 0 ? round2((reads + writes) / seconds) : 0,
    // No operation in the interval: no time was spent waiting for one.
    diskLatencyRead: reads > 0 ? round2(inc((d) => d.readTimeMs) / reads) : 0,
    diskLatencyWrite: writes > 0 ? round2(inc((d) => d.writeTimeMs) / writes) : 0,
  };
}

type NetworkTotals = Pick<
  SystemInfo,
  | 'networkBytesSent' | 'networkBytesRecv' | 'networkPacketsSent' | 'networkPacketsRecv' | 'networkErrorsIn'
  | 'networkErrorsOut' | 'networkDropsIn' | 'networkDropsOut' | 'networkFifoIn' | 'networkFifoOut'
>;

/** Totals over the given interfaces (the caller leaves loopback out). */
export function networkTotals(interfaces: readonly NetDevStat[]): NetworkTotals {
  const sum = sumOf(interfaces);
  return {
    networkBytesSent: sum((n) => n.txBytes),
    networkBytesRecv: sum((n) => n.rxBytes),
    networkPacketsSent: sum((n) => n.txPackets),
    networkPacketsRecv: sum((n) => n.rxPackets),
    networkErrorsIn: sum((n) => n.rxErrors),
    networkErrorsOut: sum((n) => n.txErrors),
    networkDropsIn: sum((n) => n.rxDropped),
    networkDropsOut: sum((n) => n.txDropped),
    networkFifoIn: sum((n) => n.rxFifo),
    networkFifoOut: sum((n) => n.txFifo),
  };
}

/** Bytes per second sent and received over `seconds` between two /proc/net/dev readings. */
export function networkRateFields(prev: readonly NetDevStat[], cur: readonly NetDevStat[], seconds: number): Pick<SystemInfo, 'networkBytesSentRate' | 'networkBytesRecvRate'> {
  if (!(seconds > 0)) return { networkBytesSentRate: 0, networkBytesRecvRate: 0 };
  const inc = (pick: (n: NetDevStat) => number): number => summedIncrease(prev, cur, (n) => n.name, pick);
  return { networkBytesSentRate: round2(inc((n) => n.txBytes) / seconds), networkBytesRecvRate: round2(inc((n) => n.rxBytes) / seconds) };
}

// network.connection.state values (as tcp.ts names them) → heartbeat fields.
const TCP_FIELDS: Array<[keyof SystemInfo & `tcpConnections${string}`, string]> = [
  ['tcpConnectionsEstablished', 'established'],
  ['tcpConnectionsTimeWait', 'time_wait'],
  ['tcpConnectionsCloseWait', 'close_wait'],
  ['tcpConnectionsListen', 'listen'],
  ['tcpConnectionsSynSent', 'syn_sent'],
  ['tcpConnectionsSynRecv', 'syn_received'],
  ['tcpConnectionsFinWait1', 'fin_wait_1'],
  ['tcpConnectionsFinWait2', 'fin_wait_2'],
  ['tcpConnectionsLastAck', 'last_ack'],
  ['tcpConnectionsClosing', 'closing'],
];

/** Every TCP state field, 0 for a state with no socket (the tables were read: 0 is known). */
export function tcpFields(states: ReadonlyMap<string, number>): Partial<SystemInfo> {
  return Object.fromEntries(TCP_FIELDS.map(([field, state]) => [field, states.get(state) ?? 0]));
}
