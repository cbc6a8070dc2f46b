// GET /inventory: the host's static facts, read through the heartbeat's readers (os-release,
// cpuinfo, DMI), so the API and the heartbeat describe the same machine the same way.
import { cpuIdentity, readStaticHostInfo } from '../heartbeat/static-info';
import { classifyMachine, readDmi } from '../heartbeat/detect';
import { readCpuinfo } from '../procfs/cpuinfo';
import type { HostFs } from '../procfs/host';
import { readMeminfo } from '../procfs/meminfo';
import { hostArch, osType, VERSION } from '../version/version';

export type Inventory = Record<string, string | number | boolean>;

/** kHz in cpufreq's cpuinfo_max_freq; absent without cpufreq (many VMs), never guessed. */
async function maxMhz(host: HostFs): Promise<number | undefined> {
  const khz = Number(host.readOptional('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq')?.trim() ?? NaN);
  return Number.isFinite(khz) && khz > 0 ? khz / 1000 : undefined;
}

/** The inventory; a field whose source cannot be read is absent rather than invented. */
export async function readInventory(host: HostFs, hostname: string): Promise<Inventory> {
  const [facts, cpuinfoText, dmi, meminfo, kernelBuild, max] = await Promise.all([
    readStaticHostInfo(host),
    host.readOptional('/proc/cpuinfo'),
    readDmi(host),
    readMeminfo(host).catch(() => undefined),
    host.readOptional('/proc/sys/kernel/version'),
    maxMhz(host),
  ]);
  const cpuinfo = cpuinfoText === undefined ? undefined : await readCpuinfo(host).catch(() => undefined);
  const identity = cpuinfo ? await cpuIdentity(cpuinfo).catch(() => undefined) : undefined;
  const machine = classifyMachine({ dmi, cpuinfo: cpuinfoText, hypervisorType: host.readOptional('/sys/hypervisor/type') });
  const inventory: Record<string, string | number | boolean | undefined> = {
    hostname,
    os_system: osType(),
    os_release: facts.kernelVersion,
    os_version: kernelBuild?.trim() || undefined,
    os_id: facts.os.id,
    os_version_id: facts.os.versionId,
    architecture: hostArch(),
    cpu_vendor: identity?.vendor,
    cpu_model: identity?.model,
    cpu_name: identity?.model,
    cpu_family: identity?.family,
    cpu_physical_cores: cpuinfo ? cpuinfo.physicalCores ?? cpuinfo.logicalCount : undefined,
    cpu_logical_cores: cpuinfo?.logicalCount,
    cpu_max_mhz: max,
    memory_total_bytes: meminfo?.get('MemTotal'),
    manufacturer: dmi.sysVendor,
    model: dmi.productName,
    serial: dmi.productSerial,
    virtualized: machine.isVirtualized,
    virtualization_type: machine.virtualizationType,
    machine_id: facts.hostId,
    agent_version: VERSION,
  };
  return Object.fromEntries(Object.entries(inventory).filter(([, value]) => value !== undefined)) as Inventory;
}
