import { hostname as osHostname } from 'node:os';
import type { SystemInfo } from '../../pkg/heartbeat';
import { HostFs, systemClock, type Clock } from '../procfs/host';
import type { AgentConfig } from '../config/types';
import { errorMessage, type Logger } from '../log/logger';
import { classifyBlockDevice, readWholeDisks } from '../procfs/block';
import { readCpuinfo, type CpuInfo } from '../procfs/cpuinfo';
import { readDiskstats, type DiskStat } from '../procfs/diskstats';
import { readEntropy } from '../procfs/entropy';
import { readFileNr } from '../procfs/file-nr';
import { readLoadavg } from '../procfs/loadavg';
import { readMeminfo } from '../procfs/meminfo';
import { readMountinfo } from '../procfs/mountinfo';
import { readNetDev, type NetDevStat } from '../procfs/netdev';
import { readSnmp } from '../procfs/snmp';
import { readStat, type KernelStat } from '../procfs/stat';
import { readTcpStates } from '../procfs/tcp';
import { readUptime } from '../procfs/uptime';
import { readVmstat } from '../procfs/vmstat';
import { hostArch, osType, VERSION } from '../version/version';
import { lookupCloudMetadata } from './cloud-metadata';
import { detectContainer, detectMachine, type ContainerInfo, type MachineInfo } from './detect';
import { cpuShares } from '../procfs/cpu-shares';
import { cpuFields, cpuPerCore, diskIoFields, diskRateFields, memoryFields, networkRateFields, networkTotals, percent, tcpFields } from './fields';
import { MountSelector } from '../collector/filesystem/procfs';
import { GuardedStatfs } from '../collector/statfs';
import { diskSpaceFields, readPartitions } from './filesystems';
import { readInterfaces } from './interfaces';
import { readProcessFields } from './processes';
import { systemInfoFields } from './schema';
import { cpuIdentity, readStaticHostInfo, type CpuIdentity, type StaticHostInfo } from './static-info';

export interface SystemInfoOptions {
  config: AgentConfig;
  logger: Logger;
  /** The monitored host's root (config.host_root by default). */
  host?: HostFs;
  /** The root of the environment the agent itself runs in, for container detection. */
  agentFs?: HostFs;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Wall-clock ms when the agent started; default: when this process started. */
  agentStartTime?: number;
}

export interface BuiltSystemInfo {
  systemInfo: SystemInfo;
  /** Sources that could not be read this time, each `source: reason`; their fields are absent. */
  problems: string[];
}

/** The counters that rates and CPU shares are computed from, with when they were read. */
interface CounterReading {
  at: number;
  stat?: KernelStat;
  disks?: DiskStat[];
  netdev?: NetDevStat[];
}

/** Facts read once per process; none of these reads can fail (each falls back to "unknown"). */
interface HostFacts {
  host: StaticHostInfo;
  container: ContainerInfo;
  machine: MachineInfo;
}

function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * Builds the heartbeat's systemInfo from the same procfs readers the metric collectors use, one
 * read of each file per build. CPU shares, IOPS and network rates are computed against the
 * previous reading (prime() takes the first one), never by sleeping inside a build.
 */
export class SystemInfoBuilder {
  private readonly host: HostFs;
  private readonly agentFs: HostFs;
  private readonly env: NodeJS.ProcessEnv;
  private readonly clock: Clock;
  private readonly agentStartTime: number;
  private readonly mounts: MountSelector;
  /** Kept for the builder's life: a mount stuck in statfs is not asked again until it answers. */
  private readonly statfs = new GuardedStatfs();
  private previous: CounterReading | undefined;
  private facts: Promise<HostFacts> | undefined;
  private cpu: Promise<CpuIdentity> | undefined;

  constructor(private readonly options: SystemInfoOptions) {
    this.host = options.host ?? new HostFs(options.config.host_root);
    this.agentFs = options.agentFs ?? new HostFs('/');
    this.env = options.env ?? process.env;
    this.clock = options.clock ?? systemClock;
    this.agentStartTime = options.agentStartTime ?? this.clock.now() - process.uptime() * 1000;
    const system = options.config.collectors.system;
    // The filesystem metrics' selection: the heartbeat's disk totals cover the same mounts.
    this.mounts = new MountSelector(system.filesystem_options, system.disk_paths);
  }

  /** Takes the baseline reading, so the first build already has an interval to compute over. */
  async prime(): Promise<void> {
    this.previous = await this.readCounters();
  }

  private async readCounters(): Promise<CounterReading> {
    // A failed read leaves its fields out of this build (reported there) and its rate out of the next.
    const [stat, disks, netdev] = await Promise.all([
      readStat(this.host).catch(() => undefined),
      readDiskstats(this.host).catch(() => undefined),
      readNetDev(this.host).catch(() => undefined),
    ]);
    return { at: this.clock.monotonic(), stat, disks, netdev };
  }

  private hostFacts(): Promise<HostFacts> {
    this.facts ??= (async () => {
      const [host, container, machine] = await Promise.all([
        readStaticHostInfo(this.host),
        detectContainer(this.agentFs, this.env),
        detectMachine(this.host, this.host.readOptional('/proc/cpuinfo')),
      ]);
      return { host, container, machine };
    })();
    return this.facts;
  }

  /** The CPU's names, cached from the first readable cpuinfo (a failure is tried again next time). */
  private cpuIdentity(cpuinfo: CpuInfo): Promise<CpuIdentity> {
    this.cpu ??= cpuIdentity(cpuinfo).catch((err: unknown) => {
      this.cpu = undefined;
      throw err;
    });
    return this.cpu;
  }

  async build(): Promise<BuiltSystemInfo> {
    const started = this.clock.monotonic();
    const collectionTime = this.clock.now();
    const problems: string[] = [];
    const settle = <T>(source: string, promise: Promise<T>): Promise<T | undefined> =>
      promise.catch((err: unknown) => {
        problems.push(`${source}: ${errorMessage(err)}`);
        return undefined;
      });
    const { config } = this.options;
    const cpuinfoRead = readCpuinfo(this.host);
    const [counters, facts, cpuinfo, cpu, meminfo, vmstat, load, uptime, wholeDisks, mounts, tcp, snmp, fileNr, entropy, processes] = await Promise.all([
      this.readCounters(),
      this.hostFacts(),
      settle('/proc/cpuinfo', cpuinfoRead),
      settle('CPU identity', cpuinfoRead.then((info) => this.cpuIdentity(info), () => undefined)),
      settle('/proc/meminfo', readMeminfo(this.host)),
      settle('/proc/vmstat', readVmstat(this.host)),
      settle('/proc/loadavg', readLoadavg(this.host)),
      settle('/proc/uptime', readUptime(this.host)),
      readWholeDisks(this.host),
      settle('mountinfo', readMountinfo(this.host)),
      settle('/proc/net/tcp', readTcpStates(this.host)),
      settle('/proc/net/snmp', readSnmp(this.host)),
      settle('/proc/sys/fs/file-nr', readFileNr(this.host)),
      settle('/proc/sys/kernel/random/entropy_avail', readEntropy(this.host)),
      settle('/proc/<pid>/stat', readProcessFields(this.host)),
    ]);
    const previous = this.previous;
    this.previous = counters;
    const [{ partitions, problems: statfsProblems }, interfaces, cloud] = await Promise.all([
      readPartitions(this.host, this.statfs, mounts ? this.mounts.select(mounts) : [], config.collectors.system.filesystem_options.statfs_timeout),
      counters.netdev ? readInterfaces(this.host, counters.netdev) : Promise.resolve(undefined),
      settle('cloud metadata', lookupCloudMetadata(config.heartbeat.cloud_metadata, facts.machine.cloudProvider, this.options.logger)),
    ]);
    problems.push(...statfsProblems);

    const info: Record<string, unknown> = {
      hostname: config.agent.hostname || osHostname(),
      os: osType(),
      architecture: hostArch(),
    };
    const { host, container, machine } = facts;
    Object.assign(info, {
      osVersion: host.os.versionId,
      platform: host.os.id,
      platformFamily: host.os.family,
      kernelVersion: host.kernelVersion,
      timezone: host.timezone,
      hostId: host.hostId,
      ...container,
      ...machine,
    });
    if (cpu) Object.assign(info, { cpuModel: cpu.model, cpuVendor: cpu.vendor, cpuFamily: cpu.family, cpuCacheSize: cpu.cacheKb });
    if (cloud) {
      // The metadata service knows best; what DMI told stays where it has no answer.
      Object.assign(info, {
        cloudProvider: cloud.provider,
        cloudInstanceId: cloud.instanceId ?? info.cloudInstanceId,
        cloudInstanceType: cloud.instanceType ?? info.cloudInstanceType,
        cloudRegion: cloud.region,
        cloudZone: cloud.zone,
      });
    }
    if (uptime) info.uptime = Math.floor(uptime.uptime);
    if (load) Object.assign(info, { loadAvg1: load.load1, loadAvg5: load.load5, loadAvg15: load.load15 });

    const stat = counters.stat;
    if (stat) {
      Object.assign(info, {
        bootTime: stat.bootTime,
        cpuCores: stat.perCpu.length,
        contextSwitches: stat.contextSwitches,
        interrupts: stat.interrupts,
        softInterrupts: stat.softInterrupts,
      });
      if (previous?.stat) {
        const shares = cpuShares(previous.stat, stat);
        if (shares.total) Object.assign(info, cpuFields(shares.total));
        const cores = cpuPerCore(shares.perCpu);
        if (cores.length > 0) info.cpuPerCore = cores;
      }
    } else problems.push('/proc/stat: unreadable');
    if (cpuinfo) {
      const mhz = [...cpuinfo.mhz.values()];
      Object.assign(info, {
        cpuLogicalCores: cpuinfo.logicalCount,
        cpuPhysicalCores: cpuinfo.physicalCores ?? cpuinfo.logicalCount,
        cpuMhz: mhz.length > 0 ? Math.round((mhz.reduce((a, b) => a + b, 0) / mhz.length) * 100) / 100 : undefined,
      });
    }

    if (meminfo) Object.assign(info, memoryFields(meminfo, vmstat, host.pageSize));

    Object.assign(info, diskSpaceFields(partitions), { diskPartitions: partitions });
    if (counters.disks) {
      const physical = counters.disks.filter((d) => classifyBlockDevice(d.name, wholeDisks) === 'disk');
      Object.assign(info, diskIoFields(physical));
      if (previous?.disks) Object.assign(info, diskRateFields(previous.disks, physical, (counters.at - previous.at) / 1000));
    } else problems.push('/proc/diskstats: unreadable');

    if (counters.netdev && interfaces) {
      const loopbacks = new Set(interfaces.filter((i) => i.isLoopback).map((i) => i.name));
      const external = counters.netdev.filter((n) => !loopbacks.has(n.name));
      Object.assign(info, networkTotals(external), { networkInterfaces: interfaces });
      if (previous?.netdev) Object.assign(info, networkRateFields(previous.netdev, external, (counters.at - previous.at) / 1000));
    } else problems.push('/proc/net/dev: unreadable');
    if (tcp) Object.assign(info, tcpFields(tcp));
    const retrans = snmp?.get('Tcp.RetransSegs');
    if (retrans !== undefined) info.tcpRetransmits = retrans;

    if (processes) Object.assign(info, processes);
    if (fileNr) {
      const open = fileNr.allocated - fileNr.unused;
      Object.assign(info, { openFileDescriptors: open, maxFileDescriptors: fileNr.max, fileDescriptorsUsage: percent(open, fileNr.max) });
    }
    if (entropy !== undefined) info.entropyAvailable = entropy;

    const finished = this.clock.monotonic();
    Object.assign(info, {
      agentVersion: VERSION,
      agentStartTime: unixSeconds(this.agentStartTime),
      agentUptime: Math.max(0, unixSeconds(collectionTime - this.agentStartTime)),
      collectionTime: unixSeconds(collectionTime),
      collectionDuration: Math.round((finished - started) * 1e6),
    });
    return { systemInfo: inContractOrder(info) as unknown as SystemInfo, problems };
  }
}

/**
 * The fields in the contract's order, undefined ones dropped: JSON would drop them anyway, and
 * dropping them here keeps `inventory` readable and tests honest about what is absent.
 */
function inContractOrder(record: Record<string, unknown>): Record<string, unknown> {
  const ordered: Record<string, unknown> = {};
  for (const field of systemInfoFields()) if (record[field] !== undefined) ordered[field] = record[field];
  return ordered;
}
