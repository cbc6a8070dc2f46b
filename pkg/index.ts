// The agent's importable contract: the heartbeat payload a TelemetryFlow backend receives.
// The same contract as a JSON Schema ships next to this module as pkg/heartbeat.schema.json.
export type {
  ContainerRuntime,
  CpuCoreInfo,
  DiskPartitionInfo,
  HeartbeatBody,
  HeartbeatReply,
  NetworkInterfaceInfo,
  RegistrationReply,
  RegistrationRequest,
  SystemInfo,
} from './heartbeat';
