// The JSON Schema of the YAML file, in the file's own layout (snake_case, durations as Go-style
// strings). Unknown keys are reported by the loader as warnings with a did-you-mean suggestion,
// so every section lists its properties and closes with additionalProperties: false; free-form
// maps (tags, headers, resource attributes) allow any key with a string value.

export type JsonSchema = Record<string, unknown>;

/** Custom format of Go-style durations; the loader turns failures into `… is not a duration`. */
export const DURATION_FORMAT = 'go-duration';

const bool: JsonSchema = { type: 'boolean' };
const text: JsonSchema = { type: 'string' };
const duration: JsonSchema = { type: 'string', format: DURATION_FORMAT };
const strings: JsonSchema = { type: 'array', items: text };
const stringMap: JsonSchema = { type: 'object', additionalProperties: text };
/** Metric name -> on or off; the names are checked against the declarations (checks.ts). */
const switches: JsonSchema = { type: 'object', additionalProperties: bool };
/** Whatever a section the agent does not act on holds; the loader warns that it is ignored. */
const anything: JsonSchema = {};

function count(minimum = 0, maximum?: number): JsonSchema {
  return maximum === undefined ? { type: 'integer', minimum } : { type: 'integer', minimum, maximum };
}

function oneOf(...values: string[]): JsonSchema {
  return { type: 'string', enum: values };
}

function section(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, additionalProperties: false };
}

const filter = { include: strings, exclude: strings };

/** Sections of the TelemetryFlow Go agent's files that load but have no behaviour here. */
export const INERT_SECTIONS = ['security', 'auto_update', 'retention', 'resources', 'cache', 'integrations'] as const;

export const CONFIG_SCHEMA: JsonSchema = section({
  telemetryflow: section({
    endpoint: text,
    backend_endpoint: text,
    protocol: oneOf('grpc', 'http'),
    api_key_id: text,
    api_key_secret: text,
    workspace_id: text,
    tenant_id: text,
    tls: section({
      enabled: bool,
      skip_verify: bool,
      // The Go agent's example file spells it this way; both are accepted.
      insecure_skip_verify: bool,
      ca_file: text,
      cert_file: text,
      key_file: text,
    }),
    timeout: duration,
    retry: section({
      enabled: bool,
      max_attempts: count(1),
      initial_interval: duration,
      max_interval: duration,
    }),
  }),
  agent: section({
    id: text,
    hostname: text,
    name: text,
    description: text,
    tags: stringMap,
    resource_attributes: stringMap,
    data_dir: text,
    shutdown_timeout: duration,
  }),
  heartbeat: section({
    enabled: bool,
    interval: duration,
    timeout: duration,
    include_system_info: bool,
    register: bool,
    cloud_metadata: section({
      enabled: bool,
      provider: oneOf('auto', 'aws', 'gcp', 'azure'),
      base_url: text,
      timeout: duration,
    }),
  }),
  collectors: section({
    system: section({
      enabled: bool,
      interval: duration,
      naming: oneOf('semconv', 'hostmetrics'),
      backend: oneOf('auto', 'procfs', 'systeminformation'),
      cpu: bool,
      memory: bool,
      disk: bool,
      network: bool,
      load: bool,
      paging: bool,
      filesystem: bool,
      processes: bool,
      system: bool,
      pressure: bool,
      disk_paths: strings,
      cpu_options: section({ per_cpu: bool, utilization: bool, frequency: bool }),
      memory_options: section({ detailed: bool, utilization: bool }),
      disk_options: section({ ...filter, include_virtual: bool, refresh_interval: duration }),
      filesystem_options: section({
        include_mountpoints: strings,
        exclude_mountpoints: strings,
        include_types: strings,
        exclude_types: strings,
        include_devices: strings,
        exclude_devices: strings,
        statfs_timeout: duration,
        include_virtual_filesystems: bool,
        utilization: bool,
      }),
      network_options: section({ ...filter, connections: bool, connections_interval: duration }),
      metrics: switches,
    }),
    process: section({
      enabled: bool,
      interval: duration,
      processes: strings,
      top_n: count(0),
      top_by: oneOf('cpu', 'memory'),
      include_command_line: bool,
      include_executable_path: bool,
      include_parent_pid: bool,
      metrics: switches,
    }),
    logs: section({ enabled: bool, paths: strings, include_patterns: strings, exclude_patterns: strings }),
  }),
  exporter: section({
    otlp: section({
      enabled: bool,
      batch_size: count(1),
      max_request_bytes: count(1024),
      compression: oneOf('gzip', 'none'),
      endpoint_version: oneOf('v1', 'v2'),
      metrics_endpoint: text,
      headers: stringMap,
      keepalive: section({ interval: duration, timeout: duration }),
      logs: section({
        endpoint: text,
        protocol: oneOf('', 'grpc', 'http'),
        headers: stringMap,
        timeout: duration,
        compression: oneOf('', 'gzip', 'none'),
        tls: section({ ca_file: text, cert_file: text, key_file: text }),
      }),
    }),
  }),
  buffer: section({
    enabled: bool,
    path: text,
    max_size_mb: count(1),
    max_age: duration,
    flush_interval: duration,
    replay_rate: count(0),
    memory_fallback_batches: count(0),
  }),
  logging: section({ level: oneOf('debug', 'info', 'warn', 'error'), format: oneOf('json', 'text'), file: text, max_size_mb: count(1), max_files: count(1) }),
  health: section({ enabled: bool, address: text }),
  api: section({
    enabled: bool,
    address: text,
    token: text,
    tls: section({ cert_file: text, key_file: text }),
    collect_interval: duration,
    ring_size: count(1, 1_000_000),
    csv_dir: text,
    retention_days: count(1, 3660),
    prometheus: bool,
  }),
  receivers: section({
    collectd: section({
      enabled: bool,
      listen: strings,
      max_packet_size: count(1024, 65535),
      security_level: oneOf('none', 'sign', 'encrypt'),
      auth_file: text,
      types_db: strings,
      max_series: count(1),
    }),
  }),
  exporters: section({
    collectd: section({
      enabled: bool,
      server: text,
      security_level: oneOf('none', 'sign', 'encrypt'),
      username: text,
      password: text,
      max_packet_size: count(1024, 65535),
      hostname: text,
    }),
  }),
  host_root: text,
  ...Object.fromEntries(INERT_SECTIONS.map((name) => [name, anything])),
});

/** Every key path whose value is a Go duration, found by walking the schema. */
function durationPaths(schema: JsonSchema, prefix: string): string[] {
  if (schema.format === DURATION_FORMAT) return [prefix];
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties === undefined) return [];
  return Object.entries(properties).flatMap(([key, child]) => durationPaths(child, prefix ? `${prefix}.${key}` : key));
}

export const DURATION_PATHS: readonly string[] = durationPaths(CONFIG_SCHEMA, '');

/** The schema node for a dot-separated key path, or undefined when the schema has no such key. */
export function schemaAt(path: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = CONFIG_SCHEMA;
  for (const key of path.split('.')) {
    const properties = node?.properties as Record<string, JsonSchema> | undefined;
    node = properties?.[key];
  }
  return node;
}
