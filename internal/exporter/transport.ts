// Picks the transport for the configured protocol; live exports and buffer replays share it.
import type { AgentConfig } from '../config/types';
import { resolveExportTarget } from './endpoint';
import { exportHeaders } from './headers';
import { loadTlsMaterial } from './tls';
import type { OtlpTransport } from './types';

/**
 * Throws EndpointError, TlsFileError or HeaderError (each naming the key) when the config
 * cannot make a working transport.
 */
export function createTransport(config: AgentConfig, agentId: string): OtlpTransport {
  const target = resolveExportTarget(config);
  const headers = exportHeaders(config, agentId);
  const tls = target.tls ? loadTlsMaterial(config.telemetryflow.tls) : undefined;
  const compression = config.exporter.otlp.compression;
  // Only the configured protocol's client is loaded (node:http2, or node:http and node:https).
  if (target.protocol === 'grpc') {
    const { GrpcTransport } = require('./grpc-transport') as typeof import('./grpc-transport');
    return new GrpcTransport({ address: target.address, tls, headers, compression });
  }
  const { HttpTransport } = require('./http-transport') as typeof import('./http-transport');
  return new HttpTransport({ url: target.url, tls, headers, compression });
}
