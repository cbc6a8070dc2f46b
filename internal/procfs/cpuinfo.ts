import { ParseError } from './errors';
import type { HostFs } from './host';

export interface CpuInfo {
  /** Logical CPUs listed (online ones). */
  logicalCount: number;
  /** Distinct (socket, core) pairs; undefined when the file has no topology (arm64, some VMs). */
  physicalCores: number | undefined;
  sockets: number | undefined;
  model: string;
  vendor: string;
  /** x86 `cpu family`, arm64 `CPU architecture`; empty when absent. */
  family: string;
  /** Current MHz by logical CPU number; empty when the file has no `cpu MHz` (arm64). */
  mhz: Map<number, number>;
  /** Cache size in bytes (x86 `cache size`, usually L2 or L3 per core); undefined when absent. */
  cacheSizeBytes: number | undefined;
}

export interface CpuTopology {
  physicalCores: number;
  sockets: number;
}

const SOURCE = '/proc/cpuinfo';

// arm64 prints implementer and part codes instead of names; the common server parts.
const ARM_IMPLEMENTERS: Record<string, string> = {
  '0x41': 'ARM', '0x42': 'Broadcom', '0x43': 'Cavium', '0x46': 'Fujitsu', '0x48': 'HiSilicon', '0x4e': 'NVIDIA',
  '0x50': 'APM', '0x51': 'Qualcomm', '0x53': 'Samsung', '0x61': 'Apple', '0xc0': 'Ampere',
};
const ARM_PARTS: Record<string, string> = {
  '0xd03': 'Cortex-A53', '0xd07': 'Cortex-A57', '0xd08': 'Cortex-A72', '0xd0b': 'Cortex-A76', '0xd0c': 'Neoverse-N1',
  '0xd40': 'Neoverse-V1', '0xd49': 'Neoverse-N2', '0xd4f': 'Neoverse-V2', '0xac3': 'Ampere-1',
};

function parseBlock(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return fields;
}

function cacheBytes(text: string | undefined): number | undefined {
  const match = /^(\d+)\s*(KB|MB|K|M)?$/i.exec(text ?? '');
  if (match === null) return undefined;
  const unit = (match[2] ?? 'K').toUpperCase().startsWith('M') ? 1024 * 1024 : 1024;
  return Number(match[1]) * unit;
}

/**
 * Parses `/proc/cpuinfo`: one block per logical CPU (x86, arm64, ppc64le, s390x print different
 * keys; the ones read here are the common ones). Requires at least one `processor` entry.
 */
export function parseCpuinfo(text: string): CpuInfo {
  const blocks = text.split(/\n\s*\n/).map(parseBlock).filter((b) => b.has('processor') && /^\d+$/.test(b.get('processor')!));
  if (blocks.length === 0) throw new ParseError(SOURCE, 'no "processor : N" entries');
  const first = blocks[0]!;
  const mhz = new Map<number, number>();
  const cores = new Set<string>();
  const sockets = new Set<string>();
  for (const block of blocks) {
    const cpu = Number(block.get('processor'));
    const speed = Number(block.get('cpu MHz'));
    if (block.has('cpu MHz') && Number.isFinite(speed)) mhz.set(cpu, speed);
    const socket = block.get('physical id');
    const core = block.get('core id');
    if (socket !== undefined && core !== undefined) {
      sockets.add(socket);
      cores.add(`${socket}/${core}`);
    }
  }
  const implementer = first.get('CPU implementer');
  const part = first.get('CPU part');
  const vendor = first.get('vendor_id') ?? (implementer !== undefined ? (ARM_IMPLEMENTERS[implementer] ?? implementer) : '');
  const model = first.get('model name') ?? first.get('cpu') ?? (part !== undefined ? (ARM_PARTS[part] ?? `part ${part}`) : '');
  // Topology counts only when every block carries it; a partial view would undercount.
  const complete = cores.size > 0 && blocks.every((b) => b.has('physical id') && b.has('core id'));
  return {
    logicalCount: blocks.length,
    physicalCores: complete ? cores.size : undefined,
    sockets: complete ? sockets.size : undefined,
    model,
    vendor,
    family: first.get('cpu family') ?? first.get('CPU architecture') ?? '',
    mhz,
    cacheSizeBytes: cacheBytes(first.get('cache size')),
  };
}

/**
 * Physical cores and sockets from sysfs topology (`cpuN/topology/{physical_package_id,core_id}`),
 * for architectures whose cpuinfo lacks them. Undefined when sysfs has no topology.
 */
export async function readCpuTopology(host: HostFs): Promise<CpuTopology | undefined> {
  let entries: string[];
  try {
    entries = host.list('/sys/devices/system/cpu');
  } catch {
    return undefined;
  }
  const cores = new Set<string>();
  const sockets = new Set<string>();
  for (const entry of entries.filter((e) => /^cpu\d+$/.test(e))) {
    const dir = `/sys/devices/system/cpu/${entry}/topology`;
    const socket = host.readOptional(`${dir}/physical_package_id`)?.trim();
    const core = host.readOptional(`${dir}/core_id`)?.trim();
    if (socket === undefined || core === undefined) continue;
    sockets.add(socket);
    cores.add(`${socket}/${core}`);
  }
  return cores.size === 0 ? undefined : { physicalCores: cores.size, sockets: sockets.size };
}

/** `/proc/cpuinfo`, with physical cores and sockets filled from sysfs when cpuinfo lacks them. */
export async function readCpuinfo(host: HostFs): Promise<CpuInfo> {
  const info = parseCpuinfo(host.readText(SOURCE));
  if (info.physicalCores !== undefined) return info;
  const topology = await readCpuTopology(host);
  return topology === undefined ? info : { ...info, ...topology };
}

/** Current frequency of each CPU in Hz from cpufreq (`scaling_cur_freq` is kHz); for cpuinfo without MHz. */
export function readCpufreq(host: HostFs, cpus: readonly number[]): Map<number, number> {
  const hz = new Map<number, number>();
  for (const cpu of cpus) {
    const khz = Number(host.readOptional(`/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_cur_freq`)?.trim() ?? NaN);
    if (Number.isFinite(khz) && khz > 0) hz.set(cpu, khz * 1000);
  }
  return hz;
}
