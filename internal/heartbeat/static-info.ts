import { open } from 'node:fs/promises';
import { release } from 'node:os';
import type { HostFs } from '../procfs/host';
import { readMachineId } from '../procfs/machine-id';
import type { CpuInfo } from '../procfs/cpuinfo';

// Facts that do not change while the agent runs: read once per process and cached by the caller.

export interface OsRelease {
  /** ID: debian, ubuntu, rhel, … */
  id?: string;
  /** First word of ID_LIKE, else ID: the family a distribution derives from. */
  family?: string;
  versionId?: string;
}

/** Parses `/etc/os-release` (`KEY=value` or `KEY="value"` lines, `#` comments). */
export function parseOsRelease(text: string): OsRelease {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match) continue;
    fields.set(match[1]!, match[2]!.trim().replace(/^(["'])(.*)\1$/, '$2'));
  }
  const id = fields.get('ID') || undefined;
  const like = fields.get('ID_LIKE')?.split(/\s+/)[0] || undefined;
  return { id, family: like ?? id, versionId: fields.get('VERSION_ID') || undefined };
}

export async function readOsRelease(host: HostFs): Promise<OsRelease> {
  const text = host.readOptional('/etc/os-release') ?? host.readOptional('/usr/lib/os-release');
  return text === undefined ? {} : parseOsRelease(text);
}

/** The kernel page size from the first mapping of `smaps` (`KernelPageSize: 4 kB`). */
export function parsePageSize(smapsHead: string): number | undefined {
  const match = /^KernelPageSize:\s+(\d+) kB/m.exec(smapsHead);
  return match ? Number(match[1]) * 1024 : undefined;
}

// The page size of the kernel the agent runs on, which is the monitored host's kernel too.
const FALLBACK_PAGE_SIZE = 4096;

export async function readPageSize(): Promise<number> {
  try {
    const file = await open('/proc/self/smaps', 'r');
    try {
      const buffer = Buffer.alloc(1024);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
      return parsePageSize(buffer.subarray(0, bytesRead).toString('utf8')) ?? FALLBACK_PAGE_SIZE;
    } finally {
      await file.close();
    }
  } catch {
    return FALLBACK_PAGE_SIZE;
  }
}

export interface StaticHostInfo {
  os: OsRelease;
  kernelVersion: string;
  hostId?: string;
  pageSize: number;
  timezone: string;
}

export async function readStaticHostInfo(host: HostFs): Promise<StaticHostInfo> {
  const [os, osrelease, pageSize] = await Promise.all([readOsRelease(host), host.readOptional('/proc/sys/kernel/osrelease'), readPageSize()]);
  return {
    os,
    kernelVersion: osrelease?.trim() || release(),
    hostId: readMachineId(host),
    pageSize,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

export interface CpuIdentity {
  model?: string;
  vendor?: string;
  family?: string;
  /** KB, as the contract's cpuCacheSize. */
  cacheKb?: number;
}

/**
 * The CPU's names from /proc/cpuinfo; systeminformation only fills what cpuinfo leaves empty (some
 * arm64 and s390x kernels print no model name), and only once per process.
 */
export async function cpuIdentity(cpuinfo: CpuInfo): Promise<CpuIdentity> {
  const identity: CpuIdentity = {
    model: cpuinfo.model || undefined,
    vendor: cpuinfo.vendor || undefined,
    family: cpuinfo.family || undefined,
    cacheKb: cpuinfo.cacheSizeBytes === undefined ? undefined : Math.round(cpuinfo.cacheSizeBytes / 1024),
  };
  if (identity.model !== undefined && identity.vendor !== undefined) return identity;
  const { cpu } = await import('systeminformation');
  const si = await cpu();
  identity.model ??= si.brand || undefined;
  identity.vendor ??= si.manufacturer || undefined;
  identity.family ??= si.family || undefined;
  return identity;
}
