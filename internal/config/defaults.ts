import type { AgentConfig } from './types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// Mount points and file system types that hold no user data, or hold container layers already
// counted on the disk beneath. The list follows the OpenTelemetry Collector's Helm preset.
export const DEFAULT_EXCLUDED_MOUNTPOINTS = [
  '^/dev($|/)',
  '^/proc($|/)',
  '^/sys($|/)',
  '^/run/k3s/containerd',
  '^/var/lib/docker/',
  '^/var/lib/containers/',
  '^/var/lib/kubelet/',
  '^/snap/',
];

export const DEFAULT_EXCLUDED_FS_TYPES = [
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs',
  'fusectl', 'hugetlbfs', 'iso9660', 'mqueue', 'nsfs', 'overlay', 'proc', 'procfs', 'pstore',
  'rpc_pipefs', 'securityfs', 'selinuxfs', 'squashfs', 'sysfs', 'tracefs', 'ramfs', 'efivarfs',
  'fuse.lxcfs', 'nfsd',
];

/** Every default in one place; the loader deep-merges the file, env and flags over a copy. */
export function defaultConfig(): AgentConfig {
  return {
    telemetryflow: {
      endpoint: 'localhost:4317',
      backend_endpoint: '',
      protocol: 'grpc',
      api_key_id: '',
      api_key_secret: '',
      workspace_id: '',
      tenant_id: '',
      tls: { enabled: true, skip_verify: false, ca_file: '', cert_file: '', key_file: '' },
      timeout: 30 * SECOND,
      retry: { enabled: true, max_attempts: 3, initial_interval: 1 * SECOND, max_interval: 30 * SECOND },
    },
    agent: {
      id: '',
      hostname: '',
      name: 'TelemetryFlow Agent',
      description: 'TelemetryFlow Agent',
      tags: { environment: 'production' },
      resource_attributes: {},
      data_dir: '/var/lib/tfo-agent',
      shutdown_timeout: 10 * SECOND,
    },
    heartbeat: {
      enabled: true,
      interval: 60 * SECOND,
      timeout: 10 * SECOND,
      include_system_info: true,
      register: false,
      cloud_metadata: { enabled: false, provider: 'auto', base_url: '', timeout: 2 * SECOND },
    },
    collectors: {
      system: {
        enabled: true,
        interval: 15 * SECOND,
        naming: 'semconv',
        backend: 'auto',
        cpu: true,
        memory: true,
        disk: true,
        network: true,
        load: true,
        paging: true,
        filesystem: true,
        processes: true,
        system: true,
        pressure: true,
        disk_paths: [],
        cpu_options: {},
        memory_options: {},
        disk_options: { include: [], exclude: [], include_virtual: false, refresh_interval: 5 * MINUTE },
        filesystem_options: {
          include_mountpoints: [],
          exclude_mountpoints: [...DEFAULT_EXCLUDED_MOUNTPOINTS],
          include_types: [],
          exclude_types: [...DEFAULT_EXCLUDED_FS_TYPES],
          include_devices: [],
          exclude_devices: [],
          statfs_timeout: 2 * SECOND,
          include_virtual_filesystems: false,
        },
        network_options: { include: [], exclude: ['lo'], connections_interval: 1 * MINUTE },
        metrics: {},
      },
      process: {
        enabled: false,
        interval: 30 * SECOND,
        processes: [],
        top_n: 0,
        top_by: 'cpu',
        metrics: {},
      },
      logs: { enabled: false, paths: [], include_patterns: [], exclude_patterns: [] },
    },
    exporter: {
      otlp: {
        enabled: true,
        batch_size: 8192,
        max_request_bytes: 3 * 1024 * 1024,
        compression: 'gzip',
        endpoint_version: 'v2',
        metrics_endpoint: '',
        headers: {},
        keepalive: { interval: 30 * SECOND, timeout: 10 * SECOND },
        logs: { endpoint: '', protocol: '', headers: {}, timeout: 0, compression: '', tls: { ca_file: '', cert_file: '', key_file: '' } },
      },
    },
    buffer: {
      enabled: true,
      path: '/var/lib/tfo-agent/buffer',
      max_size_mb: 100,
      max_age: 24 * HOUR,
      flush_interval: 5 * SECOND,
      replay_rate: 100_000,
      memory_fallback_batches: 1000,
    },
    logging: { level: 'info', format: 'json', file: '', max_size_mb: 5, max_files: 5 },
    health: { enabled: true, address: '127.0.0.1:13133' },
    // Off unless a file turns it on (the shipped one does): a library user or a second agent on
    // the host must not find port 8443 taken by surprise.
    api: {
      enabled: false,
      address: '127.0.0.1:8443',
      token: '',
      tls: { cert_file: '', key_file: '' },
      collect_interval: 1 * SECOND,
      ring_size: 600,
      csv_dir: '',
      retention_days: 7,
      prometheus: true,
    },
    receivers: {
      collectd: {
        enabled: false,
        listen: ['127.0.0.1:25826'],
        max_packet_size: 1452,
        security_level: 'none',
        auth_file: '',
        types_db: [],
        max_series: 100_000,
      },
    },
    exporters: {
      collectd: {
        enabled: false,
        server: '',
        security_level: 'none',
        username: '',
        password: '',
        max_packet_size: 1452,
        hostname: '',
      },
    },
    host_root: '/',
  };
}
