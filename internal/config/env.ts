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

  // OpenTelemetry's generic variables first, so the TelemetryFlow ones override them.
  const otlpProtocolVariable = ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'].find((n) => read(env, n) !== undefined);
  if (otlpProtocolVariable !== undefined) {
    const requested = read(env, otlpProtocolVariable) as string;
    const protocol = OTLP_PROTOCOLS[requested];
    if (protocol === undefined) {
      problems.push({
        path: otlpProtocolVariable,
        value: requested,
        message: `is not supported; supported: ${Object.keys(OTLP_PROTOCOLS).join(', ')} (http/json is not implemented)`,
      });
    } else {
      set(['telemetryflow', 'protocol'], protocol, otlpProtocolVariable);
    }
  }
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
  if (metricsEndpoint !== undefined) {
    if (getAt(tree, ['telemetryflow', 'protocol']) === 'http') {
      set(['exporter', 'otlp', 'metrics_endpoint'], metricsEndpoint, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
    } else if (read(env, 'TELEMETRYFLOW_ENDPOINT') === undefined) {
      set(['telemetryflow', 'endpoint'], metricsEndpoint, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
    }
  }

  // The signal-specific variable wins over the generic one, as the specification has it.
  const metricsFirst = (suffix: string): string[] => [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`];
  const timeoutVariable = metricsFirst('TIMEOUT').find((name) => read(env, name) !== undefined);
  if (timeoutVariable !== undefined) {
    const text = read(env, timeoutVariable) as string;
    if (/^\d+$/.test(text)) set(['telemetryflow', 'timeout'], `${text}ms`, timeoutVariable);
    else problems.push({ path: timeoutVariable, value: text, message: 'must be a whole number of milliseconds, e.g. 10000' });
  }
  setFirst(['exporter', 'otlp', 'compression'], metricsFirst('COMPRESSION'));
  setFirst(['telemetryflow', 'tls', 'ca_file'], metricsFirst('CERTIFICATE'));
  setFirst(['telemetryflow', 'tls', 'cert_file'], metricsFirst('CLIENT_CERTIFICATE'));
  setFirst(['telemetryflow', 'tls', 'key_file'], metricsFirst('CLIENT_KEY'));

  const mergePairs = (keys: readonly string[], variable: string): void => {
    const text = read(env, variable);
    if (text === undefined) return;
    for (const [name, value] of Object.entries(parseKeyValueList(text, variable, problems))) set([...keys, name], value, variable);
  };
  mergePairs(['exporter', 'otlp', 'headers'], 'OTEL_EXPORTER_OTLP_HEADERS');
  mergePairs(['exporter', 'otlp', 'headers'], 'OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  mergePairs(['agent', 'resource_attributes'], 'OTEL_RESOURCE_ATTRIBUTES');
  // OpenTelemetry's rule: OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES.
  setFirst(['agent', 'resource_attributes', 'service.name'], ['OTEL_SERVICE_NAME']);
}
