// Environment bindings: the TelemetryFlow variables of the Go agent and the standard OpenTelemetry
// exporter variables. They are written into the parsed file tree before validation, so a bad
// value from the environment gets the same checks and messages as one from the file.

import type { ConfigProblem } from './errors';
import type { Env } from './expand';
import { getAt, setAt, type Tree } from './tree';

/** Variable -> key path. Earlier entries for the same key win (TELEMETRYFLOW_AGENT_ID over _ID). */
export const TELEMETRYFLOW_ENV_BINDINGS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['TELEMETRYFLOW_ENDPOINT', ['telemetryflow', 'endpoint']],
  ['TELEMETRYFLOW_BACKEND_ENDPOINT', ['telemetryflow', 'backend_endpoint']],
  ['TELEMETRYFLOW_PROTOCOL', ['telemetryflow', 'protocol']],
  ['TELEMETRYFLOW_API_KEY_ID', ['telemetryflow', 'api_key_id']],
  ['TELEMETRYFLOW_API_KEY_SECRET', ['telemetryflow', 'api_key_secret']],
  ['TELEMETRYFLOW_WORKSPACE_ID', ['telemetryflow', 'workspace_id']],
  ['TELEMETRYFLOW_TENANT_ID', ['telemetryflow', 'tenant_id']],
  ['TELEMETRYFLOW_AGENT_ID', ['agent', 'id']],
  ['TELEMETRYFLOW_ID', ['agent', 'id']],
  ['TELEMETRYFLOW_AGENT_NAME', ['agent', 'name']],
  ['TELEMETRYFLOW_HOSTNAME', ['agent', 'hostname']],
  ['TELEMETRYFLOW_ENVIRONMENT', ['agent', 'tags', 'environment']],
  ['TELEMETRYFLOW_HEARTBEAT_INTERVAL', ['heartbeat', 'interval']],
  ['TELEMETRYFLOW_LOG_LEVEL', ['logging', 'level']],
  ['TELEMETRYFLOW_LOG_FORMAT', ['logging', 'format']],
  ['TELEMETRYFLOW_BUFFER_PATH', ['buffer', 'path']],
  ['TELEMETRYFLOW_HOST_ROOT', ['host_root']],
  ['TFO_AGENT_API_TOKEN', ['api', 'token']],
  ['TFO_AGENT_COLLECTD_PASSWORD', ['exporters', 'collectd', 'password']],
];

const OTLP_PROTOCOLS: Readonly<Record<string, string>> = { grpc: 'grpc', 'http/protobuf': 'http' };

/** Where a value that did not come from the file came from, by dot-joined key path. */
export type Origins = Map<string, string>;

/** A non-empty variable; an empty one counts as unset, as container runtimes pass them. */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Parses the OpenTelemetry `key=value,key2=value2` list (W3C baggage style, percent-encoded).
 * Problems name the variable and the entry's position, never its text: it may hold a credential.
 */
export function parseKeyValueList(text: string, variable: string, problems: ConfigProblem[]): Record<string, string> {
  const pairs: Record<string, string> = {};
  text.split(',').forEach((entry, index) => {
    if (entry.trim() === '') return;
    const equals = entry.indexOf('=');
    const key = equals === -1 ? '' : decode(entry.slice(0, equals).trim());
    const value = equals === -1 ? undefined : decode(entry.slice(equals + 1).trim());
    if (key === undefined || key === '' || value === undefined) {
      problems.push({ path: variable, message: `entry ${index + 1} is not key=value (percent-encoded), e.g. "api-key=abc,team=ops"` });
      return;
    }
    pairs[key] = value;
  });
  return pairs;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Writes every bound variable that is set into `tree`, recording where each value came from. */
export function applyEnvironment(tree: Tree, env: Env, origins: Origins, problems: ConfigProblem[]): void {
  const set = (keys: readonly string[], value: unknown, variable: string): void => {
    setAt(tree, keys, value);
    origins.set(keys.join('.'), variable);
  };
  const setFirst = (keys: readonly string[], variables: readonly string[]): void => {
    const variable = variables.find((name) => read(env, name) !== undefined);
    if (variable !== undefined) set(keys, read(env, variable), variable);
  };

  // The signal-specific variable wins over the generic one, as the specification has it. The
  // metrics' settings are the shared keys the logs follow; a logs key is set by the _LOGS_
  // variable, or by the generic one when a _METRICS_ one took the shared key.
  const metricsFirst = (suffix: string): string[] => [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`];
  const logsFirst = (suffix: string): string[] =>
    read(env, `OTEL_EXPORTER_OTLP_METRICS_${suffix}`) === undefined ? [`OTEL_EXPORTER_OTLP_LOGS_${suffix}`] : [`OTEL_EXPORTER_OTLP_LOGS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`];
  const LOGS = ['exporter', 'otlp', 'logs'];

  const setProtocol = (keys: readonly string[], variables: readonly string[]): void => {
    const variable = variables.find((n) => read(env, n) !== undefined);
    if (variable === undefined) return;
    const requested = read(env, variable) as string;
    const protocol = OTLP_PROTOCOLS[requested];
    if (protocol !== undefined) set(keys, protocol, variable);
    else problems.push({ path: variable, value: requested, message: `is not supported; supported: ${Object.keys(OTLP_PROTOCOLS).join(', ')} (http/json is not implemented)` });
  };
  // OpenTelemetry's generic variables first, so the TelemetryFlow ones override them.
  setProtocol(['telemetryflow', 'protocol'], metricsFirst('PROTOCOL'));
  setProtocol([...LOGS, 'protocol'], logsFirst('PROTOCOL'));
  setFirst(['telemetryflow', 'endpoint'], ['OTEL_EXPORTER_OTLP_ENDPOINT']);

  const byKey = new Map<string, [string, readonly string[]][]>();
  for (const [variable, keys] of TELEMETRYFLOW_ENV_BINDINGS) {
    const group = byKey.get(keys.join('.')) ?? [];
    group.push([variable, keys]);
    byKey.set(keys.join('.'), group);
  }
  for (const group of byKey.values()) setFirst(group[0][1], group.map(([variable]) => variable));

  // The signal-specific URL is used as is: the whole endpoint for gRPC, the metrics URL for HTTP.
  const metricsEndpoint = read(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const httpMetrics = getAt(tree, ['telemetryflow', 'protocol']) === 'http';
  if (metricsEndpoint !== undefined) {
    if (httpMetrics) {
      set(['exporter', 'otlp', 'metrics_endpoint'], metricsEndpoint, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
    } else if (read(env, 'TELEMETRYFLOW_ENDPOINT') === undefined) {
      set(['telemetryflow', 'endpoint'], metricsEndpoint, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
    }
  }
  const logsEndpoint = read(env, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT');
  const genericEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (logsEndpoint !== undefined) {
    set([...LOGS, 'endpoint'], logsEndpoint, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT');
  } else if (metricsEndpoint !== undefined && genericEndpoint !== undefined && read(env, 'TELEMETRYFLOW_ENDPOINT') === undefined) {
    // The generic endpoint is the logs' own; over HTTP it is a base URL the signal's path goes under.
    const httpLogs = (getAt(tree, [...LOGS, 'protocol']) || getAt(tree, ['telemetryflow', 'protocol'])) === 'http';
    const version = getAt(tree, ['exporter', 'otlp', 'endpoint_version']) ?? 'v2';
    set([...LOGS, 'endpoint'], httpLogs ? `${genericEndpoint.replace(/\/+$/, '')}/${String(version)}/logs` : genericEndpoint, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  }

  const setMilliseconds = (keys: readonly string[], variables: readonly string[]): void => {
    const variable = variables.find((name) => read(env, name) !== undefined);
    if (variable === undefined) return;
    const text = read(env, variable) as string;
    if (/^\d+$/.test(text)) set(keys, `${text}ms`, variable);
    else problems.push({ path: variable, value: text, message: 'must be a whole number of milliseconds, e.g. 10000' });
  };
  setMilliseconds(['telemetryflow', 'timeout'], metricsFirst('TIMEOUT'));
  setMilliseconds([...LOGS, 'timeout'], logsFirst('TIMEOUT'));
  const files = [['ca_file', 'CERTIFICATE'], ['cert_file', 'CLIENT_CERTIFICATE'], ['key_file', 'CLIENT_KEY']] as const;
  setFirst(['exporter', 'otlp', 'compression'], metricsFirst('COMPRESSION'));
  setFirst([...LOGS, 'compression'], logsFirst('COMPRESSION'));
  for (const [key, suffix] of files) {
    setFirst(['telemetryflow', 'tls', key], metricsFirst(suffix));
    setFirst([...LOGS, 'tls', key], logsFirst(suffix));
  }

  const mergePairs = (keys: readonly string[], variable: string): void => {
    const text = read(env, variable);
    if (text === undefined) return;
    for (const [name, value] of Object.entries(parseKeyValueList(text, variable, problems))) set([...keys, name], value, variable);
  };
  mergePairs(['exporter', 'otlp', 'headers'], 'OTEL_EXPORTER_OTLP_HEADERS');
  mergePairs(['exporter', 'otlp', 'headers'], 'OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  mergePairs([...LOGS, 'headers'], 'OTEL_EXPORTER_OTLP_LOGS_HEADERS');
  mergePairs(['agent', 'resource_attributes'], 'OTEL_RESOURCE_ATTRIBUTES');
  // OpenTelemetry's rule: OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES.
  setFirst(['agent', 'resource_attributes', 'service.name'], ['OTEL_SERVICE_NAME']);
}
