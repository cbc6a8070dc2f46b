// Picks the transport for the configured protocol; live exports and buffer replays share it.
import type { AgentConfig } from '../config/types';
import { resolveExportTarget } from './endpoint';
import { GrpcTransport } from './grpc-transport';
import { exportHeaders } from './headers';
import { HttpTransport } from './http-transport';
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
  return target.protocol === 'grpc'
    ? new GrpcTransport({ address: target.address, tls, headers, compression })
    : new HttpTransport({ url: target.url, tls, headers, compression });
}
