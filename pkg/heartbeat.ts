// The heartbeat body the agent POSTs to `{backend}/agents/{agentId}/heartbeat`, as the
// TelemetryFlow API expects it: `{"systemInfo": {...}}` with 135 camelCase fields. Units are
// bytes unless a field's comment says otherwise; `%` fields are 0–100; times are unix seconds;
// counters are cumulative since boot. A field is absent only when it cannot be known on the host;
// a known zero is sent as 0. pkg/heartbeat.schema.json is the same contract as a JSON Schema.

export interface CpuCoreInfo {
  coreId: number;
  /** % busy over the last interval. */
  usage: number;
  userPercent: number;
  systemPercent: number;
  idlePercent: number;
}

export interface DiskPartitionInfo {
  device: string;
  mountpoint: string;
  fstype: string;
  total: number;
  used: number;
  free: number;
  /** % of total. */
  usage: number;
  inodes: number;
  inodesFree: number;
  /** % of inodes. */
  inodesUsage: number;
}

export interface NetworkInterfaceInfo {
  name: string;
  macAddress?: string;
  /** CIDR notation, e.g. `10.0.0.5/24`, `fe80::1/64`. */
  ipAddresses: string[];
  mtu?: number;
  /** Mbit/s; absent when the link does not report one (virtual interfaces, link down). */
  speed?: number;
  isUp: boolean;
  isLoopback: boolean;
  bytesSent: number;
  bytesRecv: number;
  packetsSent: number;
  packetsRecv: number;
  errorsIn: number;
  errorsOut: number;
  dropsIn: number;
  dropsOut: number;
}

export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'kubernetes' | 'lxc';

export interface SystemInfo {
  // host (11)
  hostname: string;
  /** `linux`, `darwin`, `windows`, … */
  os: string;
  osVersion?: string;
  /** Distribution id, e.g. `ubuntu`, `debian`. */
  platform?: string;
  /** Distribution family, e.g. `debian`, `rhel`. */
  platformFamily?: string;
  kernelVersion: string;
  /** amd64, arm64, … */
  architecture: string;
  /** Seconds. */
  uptime: number;
  /** Unix seconds. */
  bootTime: number;
  /** IANA zone name, e.g. `Europe/Berlin`. */
  timezone: string;
  hostId?: string;

  // cpu (22)
  cpuCores: number;
  cpuLogicalCores: number;
  cpuPhysicalCores: number;
  cpuModel?: string;
  cpuVendor?: string;
  cpuFamily?: string;
  cpuMhz?: number;
  /** KB. */
  cpuCacheSize?: number;
  cpuUsage?: number;
  cpuUserPercent?: number;
  cpuSystemPercent?: number;
  cpuIdlePercent?: number;
  cpuIowaitPercent?: number;
  cpuStealPercent?: number;
  cpuGuestPercent?: number;
  cpuIrqPercent?: number;
  cpuSoftirqPercent?: number;
  cpuNicePercent?: number;
  loadAvg1: number;
  loadAvg5: number;
  loadAvg15: number;
  cpuPerCore?: CpuCoreInfo[];

  // memory (25)
  memoryTotal: number;
  memoryUsed: number;
  memoryAvailable: number;
  memoryFree: number;
  memoryUsage: number;
  memoryCached: number;
  memoryBuffers: number;
  memoryActive?: number;
  memoryInactive?: number;
  /** Linux: Mlocked (memory that cannot be paged out). */
  memoryWired?: number;
  memoryShared?: number;
  memorySlab?: number;
  memoryPageTables?: number;
  memoryCommitted?: number;
  memoryCommitLimit?: number;
  memoryDirty?: number;
  memoryWriteback?: number;
  swapTotal: number;
  swapUsed: number;
  swapFree: number;
  swapUsage: number;
  /** Bytes swapped in since boot. */
  swapIn?: number;
  /** Bytes swapped out since boot. */
  swapOut?: number;
  pageFaultsMajor?: number;
  pageFaultsMinor?: number;

  // disk (21)
  diskTotal: number;
  diskUsed: number;
  diskAvailable: number;
  diskUsage: number;
  diskInodes: number;
  diskInodesFree: number;
  diskInodesUsed: number;
  diskInodesUsage: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
  /** ms. */
  diskReadTime: number;
  /** ms. */
  diskWriteTime: number;
  /** ms. */
  diskIoTime: number;
  /** ms. */
  diskWeightedIo: number;
  diskIoInProgress: number;
  /** Operations per second over the last interval. */
  diskIops?: number;
  /** ms per read over the last interval. */
  diskLatencyRead?: number;
  /** ms per write over the last interval. */
  diskLatencyWrite?: number;
  diskPartitions: DiskPartitionInfo[];

  // network (24)
  networkBytesSent: number;
  networkBytesRecv: number;
  networkPacketsSent: number;
  networkPacketsRecv: number;
  networkErrorsIn: number;
  networkErrorsOut: number;
  networkDropsIn: number;
  networkDropsOut: number;
  networkFifoIn: number;
  networkFifoOut: number;
  /** B/s over the last interval. */
  networkBytesSentRate?: number;
  /** B/s over the last interval. */
  networkBytesRecvRate?: number;
  tcpConnectionsEstablished?: number;
  tcpConnectionsTimeWait?: number;
  tcpConnectionsCloseWait?: number;
  tcpConnectionsListen?: number;
  tcpConnectionsSynSent?: number;
  tcpConnectionsSynRecv?: number;
  tcpConnectionsFinWait1?: number;
  tcpConnectionsFinWait2?: number;
  tcpConnectionsLastAck?: number;
  tcpConnectionsClosing?: number;
  /** Segments retransmitted since boot. */
  tcpRetransmits?: number;
  networkInterfaces: NetworkInterfaceInfo[];

  // processes (11)
  processCount: number;
  processRunning: number;
  processSleeping: number;
  processStopped: number;
  processZombie: number;
  processBlocked: number;
  threadCount: number;
  contextSwitches: number;
  interrupts: number;
  softInterrupts: number;
  /** No cheap source on Linux: absent there. */
  systemCalls?: number;

  // system (4)
  openFileDescriptors?: number;
  maxFileDescriptors?: number;
  fileDescriptorsUsage?: number;
  entropyAvailable?: number;

  // container, virtualization, cloud (12)
  isContainer: boolean;
  containerId?: string;
  containerRuntime?: ContainerRuntime;
  containerName?: string;
  containerImage?: string;
  isVirtualized: boolean;
  /** kvm, vmware, xen, hyper-v, virtualbox, qemu, … */
  virtualizationType?: string;
  /** aws, gcp, azure, … */
  cloudProvider?: string;
  cloudInstanceId?: string;
  cloudInstanceType?: string;
  cloudRegion?: string;
  cloudZone?: string;

  // agent (5)
  agentVersion: string;
  /** Unix seconds. */
  agentStartTime: number;
  /** Seconds. */
  agentUptime: number;
  /** Unix seconds. */
  collectionTime: number;
  /** ns spent building this payload. */
  collectionDuration: number;
}

export interface HeartbeatBody {
  systemInfo: SystemInfo;
}

/** What the API answers to a heartbeat; every field is optional on the wire. */
export interface HeartbeatReply {
  success?: boolean;
  timestamp?: string;
  server_time?: number;
  /** Seconds until the next heartbeat. */
  next_interval?: number;
  agent_status?: string;
  config_version?: string;
  error?: string;
  error_code?: string;
}

/** `POST {backend}/agents` */
export interface RegistrationRequest {
  hostname: string;
  agentVersion: string;
  operatingSystem: string;
  macAddress: string;
  ipAddress: string;
  description: string;
  tags: Record<string, string>;
}

export interface RegistrationReply {
  id: string;
}
