import type { HostFs } from '../procfs/host';
import type { ContainerRuntime } from '../../pkg/heartbeat';

// Detection that never touches the network: what kind of container the agent runs in, whether
// the machine is virtual, and which cloud it is on, from cgroup paths, marker files and DMI.

export interface ContainerInfo {
  isContainer: boolean;
  containerId?: string;
  containerRuntime?: ContainerRuntime;
  containerName?: string;
  containerImage?: string;
}

export interface MachineInfo {
  isVirtualized: boolean;
  virtualizationType?: string;
  cloudProvider?: string;
  /** Only when DMI carries them: EC2 Nitro puts the instance id in the board asset tag and the type in the product name. */
  cloudInstanceId?: string;
  cloudInstanceType?: string;
}

interface CgroupHint {
  /** Undefined when the path names only the orchestrator (kubepods), not the engine. */
  runtime?: Exclude<ContainerRuntime, 'kubernetes'>;
  id?: string;
}

const ID = '([0-9a-f]{64})';

// Checked in order against every cgroup path; the first match names the engine and the id.
const CGROUP_PATTERNS: Array<{ runtime?: CgroupHint['runtime']; pattern: RegExp }> = [
  { runtime: 'cri-o', pattern: new RegExp(`crio-(?:conmon-)?${ID}`) },
  { runtime: 'containerd', pattern: new RegExp(`cri-containerd-${ID}`) },
  { runtime: 'containerd', pattern: new RegExp(`/(?:cri-containerd|containerd|k8s\\.io|default)/${ID}(?:$|/)`) },
  { runtime: 'containerd', pattern: new RegExp(`nerdctl-${ID}`) },
  { runtime: 'podman', pattern: new RegExp(`libpod-(?:conmon-)?${ID}`) },
  { runtime: 'docker', pattern: new RegExp(`docker[-/]${ID}`) },
  { pattern: new RegExp(`kubepods[^\\s]*/pod[^/]+/${ID}`) },
  { runtime: 'lxc', pattern: /\/lxc(?:\.payload)?[./]([^/\s]+)/ },
];

/** The cgroup paths (third field) of `/proc/<pid>/cgroup`, v1 and v2 lines alike. */
function cgroupPaths(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.split(':').slice(2).join(':').trim())
    .filter((path) => path.length > 0);
}

/** The container engine and id named by a `/proc/<pid>/cgroup` file, if any. */
export function parseCgroupContainer(text: string): CgroupHint | undefined {
  for (const path of cgroupPaths(text)) {
    for (const { runtime, pattern } of CGROUP_PATTERNS) {
      const match = pattern.exec(path);
      if (match) return runtime === 'lxc' ? { runtime } : { runtime, id: match[1] };
    }
  }
  return undefined;
}

/** Whether a cgroup file places the process in a Kubernetes pod. */
export function isKubepodsCgroup(text: string): boolean {
  return cgroupPaths(text).some((path) => /kubepods/.test(path));
}

// With a private cgroup namespace (the cgroup v2 default) the cgroup file says only `0::/`. The
// engine's bind mounts of hostname, hosts and resolv.conf still carry the id in their source path.
const MOUNT_PATTERNS: Array<{ runtime: CgroupHint['runtime']; pattern: RegExp }> = [
  { runtime: 'docker', pattern: new RegExp(`/docker/containers/${ID}/`) },
  { runtime: 'containerd', pattern: new RegExp(`/nerdctl/[^/\\s]+/containers/[^/\\s]+/${ID}/`) },
  { runtime: 'containerd', pattern: new RegExp(`/io\\.containerd\\.[^/\\s]+/[^/\\s]+/${ID}/`) },
  { runtime: 'podman', pattern: new RegExp(`/overlay-containers/${ID}/userdata`) },
];

/** The container engine and id named by the sources of `/proc/self/mountinfo`, if any. */
export function parseMountinfoContainer(text: string): CgroupHint | undefined {
  for (const { runtime, pattern } of MOUNT_PATTERNS) {
    const match = pattern.exec(text);
    if (match) return { runtime, id: match[1] };
  }
  return undefined;
}

/** `/run/.containerenv` (podman, also cri-o): `key="value"` lines with name, id, image. */
export function parseContainerenv(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match && match[2] !== '') fields[match[1]!] = match[2]!;
  }
  return fields;
}

export interface ContainerSources {
  selfCgroup?: string;
  initCgroup?: string;
  mountinfo?: string;
  dockerenv: boolean;
  containerenv?: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Decides from already-read sources. Kubernetes wins over the engine underneath (a pod is what an
 * operator looks for); the id comes from the cgroup path, then the mount sources, then podman's
 * `.containerenv`.
 */
export function classifyContainer(src: ContainerSources): ContainerInfo {
  const cgroups = [src.selfCgroup, src.initCgroup].filter((t): t is string => t !== undefined);
  const fromCgroup = cgroups.map(parseCgroupContainer).find((hint) => hint !== undefined);
  const fromMounts = src.mountinfo === undefined ? undefined : parseMountinfoContainer(src.mountinfo);
  const containerenv = src.containerenv === undefined ? undefined : parseContainerenv(src.containerenv);
  const kubernetes = Boolean(src.env.KUBERNETES_SERVICE_HOST) || cgroups.some(isKubepodsCgroup);

  let runtime: ContainerRuntime | undefined;
  if (kubernetes) runtime = 'kubernetes';
  else if (containerenv !== undefined) runtime = /cri-o/i.test(containerenv.engine ?? '') ? 'cri-o' : 'podman';
  else runtime = fromCgroup?.runtime ?? fromMounts?.runtime;
  if (runtime === undefined && src.dockerenv) runtime = 'docker';
  if (runtime === undefined && src.env.container) runtime = containerRuntimeFromEnv(src.env.container);
  if (runtime === undefined) return { isContainer: false };

  const info: ContainerInfo = { isContainer: true, containerRuntime: runtime };
  const id = fromCgroup?.id ?? fromMounts?.id ?? containerenv?.id;
  if (id) info.containerId = id;
  // Kubernetes sets HOSTNAME to the pod name; elsewhere the hostname is only the short id.
  const name = containerenv?.name ?? (kubernetes ? src.env.HOSTNAME : undefined);
  if (name) info.containerName = name;
  const image = containerenv?.image ?? src.env.TELEMETRYFLOW_CONTAINER_IMAGE;
  if (image) info.containerImage = image;
  return info;
}

function containerRuntimeFromEnv(value: string): ContainerRuntime | undefined {
  const known: Record<string, ContainerRuntime> = { docker: 'docker', podman: 'podman', lxc: 'lxc', 'lxc-libvirt': 'lxc', oci: 'containerd' };
  return known[value];
}

/**
 * Reads the container markers of the environment the agent runs in. `fs` is that environment's
 * root (`/`), not the monitored host root: a DaemonSet pod is a container even though it reports
 * the node.
 */
export async function detectContainer(fs: HostFs, env: NodeJS.ProcessEnv): Promise<ContainerInfo> {
  const [selfCgroup, initCgroup, mountinfo, dockerenv, containerenv] = await Promise.all([
    fs.readOptional('/proc/self/cgroup'),
    fs.readOptional('/proc/1/cgroup'),
    fs.readOptional('/proc/self/mountinfo'),
    fs.exists('/.dockerenv'),
    fs.readOptional('/run/.containerenv'),
  ]);
  return classifyContainer({ selfCgroup, initCgroup, mountinfo, dockerenv, containerenv, env });
}

/** The DMI strings under /sys/class/dmi/id that identify a (virtual) machine. */
export interface Dmi {
  sysVendor?: string;
  productName?: string;
  productVersion?: string;
  /** Readable by root only on most systems. */
  productSerial?: string;
  biosVendor?: string;
  biosVersion?: string;
  boardAssetTag?: string;
  chassisAssetTag?: string;
}

const DMI_FILES: Record<keyof Dmi, string> = {
  sysVendor: 'sys_vendor',
  productName: 'product_name',
  productVersion: 'product_version',
  productSerial: 'product_serial',
  biosVendor: 'bios_vendor',
  biosVersion: 'bios_version',
  boardAssetTag: 'board_asset_tag',
  chassisAssetTag: 'chassis_asset_tag',
};

export async function readDmi(fs: HostFs): Promise<Dmi> {
  const dmi: Dmi = {};
  await Promise.all(
    (Object.keys(DMI_FILES) as Array<keyof Dmi>).map(async (key) => {
      const value = fs.readOptional(`/sys/class/dmi/id/${DMI_FILES[key]}`)?.trim();
      if (value) dmi[key] = value;
    }),
  );
  return dmi;
}

/** Azure writes this constant into the chassis asset tag of every VM it runs. */
export const AZURE_ASSET_TAG = '7783-7084-3265-9085-8269-3286-77';

// First match wins; `test` sees the DMI strings. Clouds come before the bare hypervisors they
// run on (EC2 Nitro and GCE are KVM underneath, Azure is Hyper-V).
const MACHINE_RULES: Array<{ test: (d: Dmi) => boolean; type: string; cloud?: string }> = [
  { test: (d) => d.sysVendor === 'Amazon EC2' || /amazon/i.test(d.biosVersion ?? ''), type: 'kvm', cloud: 'aws' },
  { test: (d) => /^Google/.test(d.sysVendor ?? '') || d.productName === 'Google Compute Engine', type: 'kvm', cloud: 'gcp' },
  { test: (d) => d.sysVendor === 'Microsoft Corporation' && d.productName === 'Virtual Machine' && d.chassisAssetTag === AZURE_ASSET_TAG, type: 'hyper-v', cloud: 'azure' },
  { test: (d) => d.sysVendor === 'Microsoft Corporation' && d.productName === 'Virtual Machine', type: 'hyper-v' },
  { test: (d) => d.sysVendor === 'DigitalOcean', type: 'kvm', cloud: 'digitalocean' },
  { test: (d) => d.sysVendor === 'Alibaba Cloud', type: 'kvm', cloud: 'alibaba' },
  { test: (d) => d.chassisAssetTag === 'OracleCloud.com', type: 'kvm', cloud: 'oracle' },
  { test: (d) => d.sysVendor === 'Hetzner', type: 'kvm', cloud: 'hetzner' },
  { test: (d) => /vmware/i.test(`${d.sysVendor ?? ''} ${d.productName ?? ''}`), type: 'vmware' },
  { test: (d) => d.sysVendor === 'innotek GmbH' || d.productName === 'VirtualBox', type: 'virtualbox' },
  { test: (d) => /^Xen/i.test(d.sysVendor ?? '') || /HVM domU/.test(d.productName ?? ''), type: 'xen' },
  { test: (d) => /parallels/i.test(d.sysVendor ?? ''), type: 'parallels' },
  { test: (d) => d.sysVendor === 'BHYVE', type: 'bhyve' },
  { test: (d) => /KVM|OpenStack|AHV/.test(`${d.productName ?? ''} ${d.sysVendor ?? ''}`), type: 'kvm' },
  // QEMU's DMI is the same with and without KVM acceleration; production guests are KVM.
  { test: (d) => d.sysVendor === 'QEMU' || d.biosVendor === 'SeaBIOS', type: 'kvm' },
];

export interface MachineSources {
  dmi: Dmi;
  /** /proc/cpuinfo text: the `hypervisor` flag says "virtual" even when DMI is silent. */
  cpuinfo?: string;
  /** /sys/hypervisor/type (xen on Xen guests). */
  hypervisorType?: string;
}

export function classifyMachine(src: MachineSources): MachineInfo {
  const rule = MACHINE_RULES.find((r) => r.test(src.dmi));
  const hypervisor = src.hypervisorType?.trim();
  const flagged = src.cpuinfo !== undefined && /^flags\s*:.*\bhypervisor\b/m.test(src.cpuinfo);
  const type = rule?.type ?? (hypervisor ? hypervisor : undefined);
  if (type === undefined && !flagged) return { isVirtualized: false };
  const info: MachineInfo = { isVirtualized: true };
  if (type !== undefined) info.virtualizationType = type;
  if (rule?.cloud) info.cloudProvider = rule.cloud;
  if (rule?.cloud === 'aws') {
    if (/^i-[0-9a-f]+$/.test(src.dmi.boardAssetTag ?? '')) info.cloudInstanceId = src.dmi.boardAssetTag;
    if (/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(src.dmi.productName ?? '')) info.cloudInstanceType = src.dmi.productName;
  }
  return info;
}

/** Reads DMI and the hypervisor hints of the monitored host (through its root). */
export async function detectMachine(fs: HostFs, cpuinfo?: string): Promise<MachineInfo> {
  const [dmi, hypervisorType] = await Promise.all([readDmi(fs), fs.readOptional('/sys/hypervisor/type')]);
  return classifyMachine({ dmi, cpuinfo, hypervisorType });
}
