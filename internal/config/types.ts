// The effective configuration of the agent, after file, environment, flags and defaults are merged
// and validated. Keys mirror the YAML layout (snake_case) so that `config show`, the docs and the
// code use the same names. Durations are milliseconds here; the YAML holds Go-style strings.

export type Protocol = 'grpc' | 'http';
export type Compression = 'gzip' | 'none';
export type EndpointVersion = 'v1' | 'v2';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';
export type NamingProfile = 'semconv' | 'hostmetrics';
export type CollectorBackend = 'auto' | 'procfs' | 'systeminformation';

export interface TlsConfig {
  enabled: boolean;
  skip_verify: boolean;
  ca_file: string;
  cert_file: string;
  key_file: string;
}

export interface RetryConfig {
  enabled: boolean;
  max_attempts: number;
  initial_interval: number;
  max_interval: number;
}

export interface TelemetryFlowConfig {
  endpoint: string;
  /** REST base URL of the TelemetryFlow API; empty disables the heartbeat. */
  backend_endpoint: string;
  protocol: Protocol;
  api_key_id: string;
  api_key_secret: string;
  workspace_id: string;
  tenant_id: string;
  tls: TlsConfig;
  timeout: number;
  retry: RetryConfig;
}

export interface AgentIdentityConfig {
  id: string;
  hostname: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  /** Extra resource attributes on every export (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME). */
  resource_attributes: Record<string, string>;
  /** Where the agent keeps state that must survive restarts (its generated id). */
  data_dir: string;
  /** How long a SIGTERM/SIGINT may take, final flush included. */
  shutdown_timeout: number;
}

export interface HeartbeatConfig {
  enabled: boolean;
  interval: number;
  timeout: number;
  include_system_info: boolean;
  register: boolean;
  cloud_metadata: {
    enabled: boolean;
    /** auto probes the provider detected from DMI; otherwise only the named one. */
    provider: 'auto' | 'aws' | 'gcp' | 'azure';
    /** Base URL of the metadata service; empty means the provider's well-known address. */
    base_url: string;
    timeout: number;
  };
}

export interface FilterConfig {
  /** Names or `/regex/` patterns; empty means everything not excluded. */
  include: string[];
  exclude: string[];
}

export interface SystemCollectorsConfig {
  enabled: boolean;
  interval: number;
  naming: NamingProfile;
  backend: CollectorBackend;
  // Family switches. cpu, memory, disk and network are the TelemetryFlow keys.
  cpu: boolean;
  memory: boolean;
  disk: boolean;
  network: boolean;
  load: boolean;
  paging: boolean;
  filesystem: boolean;
  processes: boolean;
  system: boolean;
  pressure: boolean;
  /** TelemetryFlow key: mountpoints to report; empty means every real file system. */
  disk_paths: string[];
  // A metric's own switch (utilization, frequency, detailed, connections) left unset: the metric's
  // default under the naming profile (docs/METRICS.md); per_cpu likewise.
  cpu_options: { per_cpu?: boolean; utilization?: boolean; frequency?: boolean };
  memory_options: { detailed?: boolean; utilization?: boolean };
  disk_options: FilterConfig & { include_virtual: boolean; refresh_interval: number };
  filesystem_options: {
    include_mountpoints: string[];
    exclude_mountpoints: string[];
    include_types: string[];
    exclude_types: string[];
    include_devices: string[];
    exclude_devices: string[];
    statfs_timeout: number;
    /** Also file systems without a device (nodev in /proc/filesystems: tmpfs, nfs, cifs…). */
    include_virtual_filesystems: boolean;
    utilization?: boolean;
  };
  network_options: FilterConfig & {
    connections?: boolean;
    /** How often the TCP tables are walked; the counts are reported every cycle. 0: every cycle. */
    connections_interval: number;
  };
  /** Metric name (under the naming profile) -> on or off, over its default: `system.cpu.logical.count: false`. */
  metrics: Record<string, boolean>;
}

export interface ProcessCollectorConfig {
  enabled: boolean;
  interval: number;
  /** Executable names or `/regex/` patterns matched against name, path and command line. */
  processes: string[];
  /** Also report the top N processes by `top_by`; 0 turns top-N off. */
  top_n: number;
  top_by: 'cpu' | 'memory';
  /** Opt-in attributes: unset, each follows the naming profile (hostmetrics: on, semconv: off). */
  include_command_line?: boolean;
  include_executable_path?: boolean;
  include_parent_pid?: boolean;
  /** Metric name (under the naming profile) -> on or off, over its default. */
  metrics: Record<string, boolean>;
}

export interface LogsCollectorConfig {
  enabled: boolean;
  paths: string[];
  include_patterns: string[];
  exclude_patterns: string[];
}

export interface OtlpExporterConfig {
  enabled: boolean;
  /** Data points per OTLP request; an export with more is sent as several requests. */
  batch_size: number;
  /** Bytes of one OTLP request before compression; bigger exports are cut to fit. */
  max_request_bytes: number;
  compression: Compression;
  endpoint_version: EndpointVersion;
  /** Path or URL; empty derives `/{endpoint_version}/metrics` for HTTP. */
  metrics_endpoint: string;
  /** Extra headers sent with every export. */
  headers: Record<string, string>;
  /** gRPC: HTTP/2 pings on an idle session; interval 0 turns them off. */
  keepalive: { interval: number; timeout: number };
  /** The logs service's own settings; each one left empty follows the metrics export's. */
  logs: OtlpLogsConfig;
}

/** Where the log records (collectd notifications) go, when not beside the metrics. */
export interface OtlpLogsConfig {
  /** HTTP: a path under the metrics endpoint or a whole URL used as is; gRPC: host:port, a URL or unix:/path. */
  endpoint: string;
  protocol: Protocol | '';
  /** Sent with log requests over exporter.otlp.headers. */
  headers: Record<string, string>;
  /** 0: telemetryflow.timeout. */
  timeout: number;
  compression: Compression | '';
  tls: Pick<TlsConfig, 'ca_file' | 'cert_file' | 'key_file'>;
}

export interface BufferConfig {
  enabled: boolean;
  path: string;
  max_size_mb: number;
  max_age: number;
  flush_interval: number;
  /** Replay budget in data points per second; 0 means unlimited. */
  replay_rate: number;
  /** Batches kept in memory when the disk cannot take them. */
  memory_fallback_batches: number;
}

export interface LoggingConfig {
  level: LogLevel;
  format: LogFormat;
  /** Empty means stdout only; set, lines go to stdout and to this file. */
  file: string;
  /** logging.file is rotated when it reaches this size. */
  max_size_mb: number;
  /** Rotated files kept beside logging.file (file.1 … file.N). */
  max_files: number;
}

export interface HealthConfig {
  enabled: boolean;
  /** `host:port` the health listener binds. */
  address: string;
}

export interface ApiConfig {
  enabled: boolean;
  /** `host:port` the local query API binds. */
  address: string;
  /** Bearer token every route but /health asks for; empty: none (loopback only). */
  token: string;
  /** Both set: HTTPS. */
  tls: { cert_file: string; key_file: string };
  /** How often the sampler reads the host for the ring and the CSV files. */
  collect_interval: number;
  /** Samples kept in memory. */
  ring_size: number;
  /** Where the daily CSV files go; the loader fills in `<agent.data_dir>/csv` when empty. */
  csv_dir: string;
  retention_days: number;
  /** GET /metrics in the Prometheus text format. */
  prometheus: boolean;
}

export interface CollectdReceiverConfig {
  enabled: boolean;
  /** `host:port` (or `[v6]:port`), unicast or a multicast group, `%interface` to join a group on one interface. */
  listen: string[];
  /** Longer datagrams are cut at this size, as collectd does. */
  max_packet_size: number;
  security_level: 'none' | 'sign' | 'encrypt';
  /** `user: password` lines; re-read when it changes. Empty: none. */
  auth_file: string;
  /** types.db files; empty: the system's collectd types.db if installed, else a built-in table. */
  types_db: string[];
  /** Distinct series (host, plugin, instances, type, data source) kept; more are counted and dropped. */
  max_series: number;
}

export interface CollectdExporterConfig {
  enabled: boolean;
  /** `host:port` (or `[v6]:port`), unicast or a multicast group, `%interface` to send to a group on one interface. */
  server: string;
  security_level: 'none' | 'sign' | 'encrypt';
  username: string;
  password: string;
  /** Packets are filled up to this size (signing or encryption included), as collectd does. */
  max_packet_size: number;
  /** The host part of every value list; empty: the agent's host name (its resource's host.name). */
  hostname: string;
}

export interface AgentConfig {
  telemetryflow: TelemetryFlowConfig;
  agent: AgentIdentityConfig;
  heartbeat: HeartbeatConfig;
  collectors: {
    system: SystemCollectorsConfig;
    process: ProcessCollectorConfig;
    logs: LogsCollectorConfig;
  };
  exporter: { otlp: OtlpExporterConfig };
  buffer: BufferConfig;
  logging: LoggingConfig;
  health: HealthConfig;
  api: ApiConfig;
  receivers: { collectd: CollectdReceiverConfig };
  /** Outputs beside the OTLP export that read off the same collection. */
  exporters: { collectd: CollectdExporterConfig };
  /** Where the host's `/` is mounted (TELEMETRYFLOW_HOST_ROOT); `/` on a bare host. */
  host_root: string;
}

/** Paths (dot-separated) of values that must never be printed or logged. */
export const SECRET_PATHS: readonly string[] = ['telemetryflow.api_key_secret', 'api.token', 'exporters.collectd.password'];
