// Picks the transport for the configured protocol; live exports and buffer replays share it.
import type { AgentConfig } from '../config/types';
import { logsExportConfig, resolveExportTarget, type Signal } from './endpoint';
import { exportHeaders } from './headers';
import { proxyFor } from './proxy';
import { TlsSource } from './tls';
import type { OtlpTransport } from './types';

/**
 * Throws EndpointError, TlsFileError, ProxyConfigError or HeaderError (each naming the key) when the config
 * cannot make a working transport.
 */
export function createTransport(config: AgentConfig, agentId: string, env: NodeJS.ProcessEnv = process.env, signal: Signal = 'metrics'): OtlpTransport {
  const target = resolveExportTarget(config, signal);
  // The logs service: the metrics' settings with exporter.otlp.logs over them.
  const effective = signal === 'logs' ? logsExportConfig(config) : config;
  const headers = exportHeaders(effective, agentId);
  const tls = target.tls ? new TlsSource(effective.telemetryflow.tls) : undefined;
  const { compression, keepalive } = effective.exporter.otlp;
  const { destination } = target;
  // A collector on a unix socket is on this host: no proxy in between.
  const proxy = destination.kind === 'tcp' ? proxyFor(target.protocol === 'grpc' ? 'grpc' : target.tls ? 'https' : 'http', destination.host, destination.port, env) : undefined;
  // Only the configured protocol's client is loaded (node:http2, or node:http and node:https).
  if (target.protocol === 'grpc') {
    const { GrpcTransport, GRPC_LOGS_EXPORT_METHOD } = require('./grpc-transport') as typeof import('./grpc-transport');
    const method = signal === 'logs' ? GRPC_LOGS_EXPORT_METHOD : undefined;
    return new GrpcTransport({ address: target.address, destination, tls, headers, compression, proxy, keepalive: { intervalMs: keepalive.interval, timeoutMs: keepalive.timeout }, method });
  }
  const { HttpTransport } = require('./http-transport') as typeof import('./http-transport');
  return new HttpTransport({ url: target.url, destination, tls, headers, compression, proxy });
}
