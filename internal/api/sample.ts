// One sample of the local API: what /metrics/latest answers, one ring entry, one CSV row. The
// fields are declared once here (their order is the CSV's column order); the values are computed
// by the heartbeat's pure field functions, so "used memory" or "CPU busy" mean the same everywhere.
import { cpuShares } from '../procfs/cpu-shares';
import { memoryFields, networkRateFields, percent, type diskIoFields } from '../heartbeat/fields';
import { usedPercent } from '../heartbeat/filesystems';
import type { FsStats } from '../collector/statfs';
import type { LoadAverage } from '../procfs/loadavg';
import type { Meminfo } from '../procfs/meminfo';
import type { NetDevStat } from '../procfs/netdev';
import type { KernelStat } from '../procfs/stat';

export interface Sample {
  /** Seconds since the epoch, millisecond precision. */
  ts_unix: number;
  ts_iso: string;
  host: string;
  /** Busy share of all CPUs since the previous sample, percent (idle and iowait are not busy). */
  cpu_total: number | null;
  /** The same per logical CPU, in CPU number order. */
  cpu_per_core: number[];
  mem_percent: number | null;
  mem_total: number | null;
  /** MemTotal − MemAvailable, as system.memory.usage{state=used}. */
  mem_used: number | null;
  swap_percent: number | null;
  swap_total: number | null;
  swap_used: number | null;
  /** Mean current frequency of the logical CPUs. */
  freq_mhz: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  /** Physical disks only (no partitions, device mapper, RAID, loop), bytes per second. */
  disk_read_bps: number | null;
  disk_write_bps: number | null;
  /** Every interface but loopback, bytes per second. */
  net_rx_bps: number | null;
  net_tx_bps: number | null;
  /** Used share of the root file system, df's way: used / (used + available to users). */
  root_fs_used_percent: number | null;
}

export type SampleField = keyof Sample;

/** Every field, in column order. */
export const SAMPLE_FIELDS: readonly SampleField[] = [
  'ts_unix', 'ts_iso', 'host', 'cpu_total', 'cpu_per_core', 'mem_percent', 'mem_total', 'mem_used',
  'swap_percent', 'swap_total', 'swap_used', 'freq_mhz', 'load1', 'load5', 'load15',
  'disk_read_bps', 'disk_write_bps', 'net_rx_bps', 'net_tx_bps', 'root_fs_used_percent',
];

/** The single-number fields a step query averages (ts_unix is the bucket's start instead). */
export const NUMERIC_FIELDS = SAMPLE_FIELDS.filter(
  (field): field is Exclude<SampleField, 'ts_unix' | 'ts_iso' | 'host' | 'cpu_per_core'> => !['ts_unix', 'ts_iso', 'host', 'cpu_per_core'].includes(field),
);

/** What one sampling read from the host; a source that failed is undefined. */
export interface Reading {
  /** Wall-clock ms. */
  at: number;
  /** Monotonic ms, for rates. */
  monotonic: number;
  stat?: KernelStat;
  meminfo?: Meminfo;
  loadavg?: LoadAverage;
  /** Physical disks' totals (diskIoFields), kept for the next sample's rates. */
  diskIo?: ReturnType<typeof diskIoFields>;
  /** Without loopback. */
  netdev?: NetDevStat[];
  rootFs?: FsStats;
  freqMhz?: number;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Bytes per second between two totals; a counter that went back (device reset) counts from 0. */
function perSecond(before: number, after: number, seconds: number): number {
  return round2((after >= before ? after - before : after) / seconds);
}

/** The sample of `current`; rates and CPU shares need `previous` and are null without it. */
export function buildSample(previous: Reading | undefined, current: Reading, host: string): Sample {
  const seconds = previous === undefined ? 0 : (current.monotonic - previous.monotonic) / 1000;
  const { stat, meminfo, loadavg, diskIo, netdev, rootFs } = current;
  const shares = stat && previous?.stat ? cpuShares(previous.stat, stat) : undefined;
  const memory = meminfo ? memoryFields(meminfo, undefined, 0) : undefined;
  const diskBefore = previous?.diskIo;
  const diskNow = diskIo;
  const network = netdev && previous?.netdev && seconds > 0 ? networkRateFields(previous.netdev, netdev, seconds) : undefined;
  const diskRate = diskBefore && diskNow && seconds > 0;
  return {
    ts_unix: current.at / 1000,
    ts_iso: new Date(current.at).toISOString(),
    host,
    // The busy share as the heartbeat's cpuUsage and per-core usage are (fields.ts), without
    // the nine other percentages those build that a sample does not hold.
    cpu_total: shares?.total ? percent(shares.total.busy, 1) : null,
    cpu_per_core: shares ? Array.from(shares.perCpu.values(), (core) => percent(core.busy, 1)) : [],
    mem_percent: memory?.memoryUsage ?? null,
    mem_total: memory?.memoryTotal ?? null,
    mem_used: memory?.memoryUsed ?? null,
    swap_percent: memory?.swapUsage ?? null,
    swap_total: memory?.swapTotal ?? null,
    swap_used: memory?.swapUsed ?? null,
    freq_mhz: current.freqMhz ?? null,
    load1: loadavg?.load1 ?? null,
    load5: loadavg?.load5 ?? null,
    load15: loadavg?.load15 ?? null,
    disk_read_bps: diskRate ? perSecond(diskBefore.diskReadBytes, diskNow.diskReadBytes, seconds) : null,
    disk_write_bps: diskRate ? perSecond(diskBefore.diskWriteBytes, diskNow.diskWriteBytes, seconds) : null,
    net_rx_bps: network?.networkBytesRecvRate ?? null,
    net_tx_bps: network?.networkBytesSentRate ?? null,
    root_fs_used_percent: rootFs ? usedPercent(rootFs) : null,
  };
}
