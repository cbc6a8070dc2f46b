// Where exports go, decided once from the effective config: a gRPC `host:port` or an HTTP URL.
import { parseHostPort, parseUnixEndpoint, schemeTls } from '../config/checks';
import type { AgentConfig } from '../config/types';
import type { Destination } from './connect';

export const DEFAULT_GRPC_PORT = 4317;
export const DEFAULT_HTTP_PORT = 4318;

export type ExportTarget =
  | { protocol: 'grpc'; /** `host:port` or `unix:/path`, no scheme */ address: string; tls: boolean; destination: Destination }
  | { protocol: 'http'; /** full metrics URL */ url: string; tls: boolean; destination: Destination };

/** An endpoint the exporter cannot use; names the key and the value. */
export class EndpointError extends Error {
  constructor(
    readonly key: string,
    readonly value: string,
    expected: string,
  ) {
    super(`${key}: ${JSON.stringify(value)} ${expected}`);
    this.name = 'EndpointError';
  }
}

interface Authority {
  host: string;
  port: number;
  /** Path after the authority, without a trailing slash ('' for none). */
  basePath: string;
  /** From the scheme, when there is one. */
  tls?: boolean;
}

/** Reads `http(s)://host[:port][/path]` or `host[:port]`. */
function parseEndpoint(endpoint: string, defaultPort: number): Authority {
  const text = endpoint.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new EndpointError('telemetryflow.endpoint', endpoint, 'is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EndpointError('telemetryflow.endpoint', endpoint, 'must use http:// or https://, or be host:port');
    }
    return {
      host: url.hostname,
      port: url.port === '' ? defaultPort : Number(url.port),
      basePath: url.pathname.replace(/\/+$/, ''),
      tls: url.protocol === 'https:',
    };
  }
  const hostPort = parseHostPort(text);
  if (hostPort) return { ...hostPort, basePath: '' };
  if (/^(\[[0-9A-Fa-f:.]+\]|[^:/\s[\]]+)$/.test(text)) return { host: text, port: defaultPort, basePath: '' };
  throw new EndpointError('telemetryflow.endpoint', endpoint, 'must be host:port or an http(s):// URL, e.g. "localhost:4317"');
}

function tcp(host: string, port: number): Destination {
  return { kind: 'tcp', host: host.replace(/^\[|\]$/g, ''), port };
}

/**
 * The export target. TLS: an `https://` or `http://` scheme says it outright, otherwise
 * `telemetryflow.tls.enabled` decides. HTTP path: an explicit `exporter.otlp.metrics_endpoint`
 * (a path, or a whole URL) wins; otherwise `/{endpoint_version}/metrics` under the endpoint.
 */
export function resolveExportTarget(config: AgentConfig, signal: Signal = 'metrics'): ExportTarget {
  if (signal === 'metrics') return resolveMetricsTarget(config);
  const view = logsExportConfig(config);
  const target = resolveMetricsTarget(view);
  // A logs path or URL of its own is used as is.
  const own = view.exporter.otlp.metrics_endpoint !== '' && view.exporter.otlp.metrics_endpoint === config.exporter.otlp.logs.endpoint;
  if (target.protocol === 'grpc' || own) return target;
  // Otherwise logs go beside the metrics: the same URL with its last `metrics` segment as `logs`.
  return { ...target, url: target.url.replace(/\/metrics(\/?)$/, '/logs$1') };
}

/**
 * What the logs service's transport is made from: the metrics export's settings, with each one
 * exporter.otlp.logs sets in its place (its headers over the shared ones).
 */
export function logsExportConfig(config: AgentConfig): AgentConfig {
  const { telemetryflow: tf, exporter } = config;
  const { logs, ...otlp } = exporter.otlp;
  const protocol = logs.protocol || tf.protocol;
  let endpoint = tf.endpoint;
  let metricsEndpoint = otlp.metrics_endpoint;
  if (logs.endpoint !== '') {
    // Over HTTP a path (under the endpoint) or a whole URL is the logs URL; anything else is the endpoint.
    if (protocol === 'http' && (logs.endpoint.startsWith('/') || /^https?:\/\//i.test(logs.endpoint))) metricsEndpoint = logs.endpoint;
    else [endpoint, metricsEndpoint] = [logs.endpoint, ''];
  }
  // A client certificate and its key go together: both the logs' own, or both the shared ones.
  const pair = logs.tls.cert_file !== '' ? logs.tls : tf.tls;
  return {
    ...config,
    telemetryflow: {
      ...tf,
      endpoint,
      protocol,
      timeout: logs.timeout || tf.timeout,
      tls: { ...tf.tls, ca_file: logs.tls.ca_file || tf.tls.ca_file, cert_file: pair.cert_file, key_file: pair.key_file },
    },
    exporter: {
      ...exporter,
      otlp: { ...otlp, logs, metrics_endpoint: metricsEndpoint, compression: logs.compression || otlp.compression, headers: { ...otlp.headers, ...logs.headers } },
    },
  };
}

/** What an exporter sends: its HTTP path and gRPC service follow. */
export type Signal = 'metrics' | 'logs';

function resolveMetricsTarget(config: AgentConfig): ExportTarget {
  const { endpoint, protocol, tls } = config.telemetryflow;
  const otlp = config.exporter.otlp;
  const socketPath = parseUnixEndpoint(endpoint);
  if (protocol === 'grpc') {
    if (socketPath !== undefined) return { protocol: 'grpc', address: `unix:${socketPath}`, tls: tls.enabled, destination: { kind: 'unix', path: socketPath } };
    const authority = parseEndpoint(endpoint, DEFAULT_GRPC_PORT);
    return { protocol: 'grpc', address: `${authority.host}:${authority.port}`, tls: authority.tls ?? tls.enabled, destination: tcp(authority.host, authority.port) };
  }
  const metricsEndpoint = otlp.metrics_endpoint.trim();
  if (/^https?:\/\//i.test(metricsEndpoint)) {
    try {
      new URL(metricsEndpoint);
    } catch {
      throw new EndpointError('exporter.otlp.metrics_endpoint', metricsEndpoint, 'is not a valid URL');
    }
    const url = new URL(metricsEndpoint);
    return { protocol: 'http', url: metricsEndpoint, tls: schemeTls(metricsEndpoint) === true, destination: tcp(url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80))) };
  }
  const path = metricsEndpoint !== '' ? (metricsEndpoint.startsWith('/') ? metricsEndpoint : `/${metricsEndpoint}`) : `/${otlp.endpoint_version}/metrics`;
  // A collector on a unix socket is on this host: the URL's authority is only the Host header.
  if (socketPath !== undefined) return { protocol: 'http', url: `${tls.enabled ? 'https' : 'http'}://localhost${path}`, tls: tls.enabled, destination: { kind: 'unix', path: socketPath } };
  const authority = parseEndpoint(endpoint, DEFAULT_HTTP_PORT);
  const useTls = authority.tls ?? tls.enabled;
  const fullPath = metricsEndpoint !== '' ? path : `${authority.basePath}${path}`;
  return { protocol: 'http', url: `${useTls ? 'https' : 'http'}://${authority.host}:${authority.port}${fullPath}`, tls: useTls, destination: tcp(authority.host, authority.port) };
}
