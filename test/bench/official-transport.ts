// Preloaded (node -r) into the built agent by the transport bench: every export goes through the
// official OTLP gRPC transport (grpc-js, from @opentelemetry/otlp-grpc-exporter-base) instead of
// the agent's own, with everything else (collection, encoding, buffer) unchanged.
import { createEmptyMetadata, createInsecureCredentials } from '@opentelemetry/otlp-grpc-exporter-base';
// Not re-exported by the package's index; the path is stable across 0.2xx releases.
import { createOtlpGrpcExporterTransport } from '@opentelemetry/otlp-grpc-exporter-base/build/src/grpc-exporter-transport';
import type { AgentConfig } from '../../internal/config/types';
import { resolveExportTarget } from '../../internal/exporter/endpoint';
import { exportHeaders } from '../../internal/exporter/headers';
import type { OtlpTransport, SendResult } from '../../internal/exporter/types';
import transportModule = require('../../internal/exporter/transport');

function officialTransport(config: AgentConfig, agentId: string): OtlpTransport {
  const target = resolveExportTarget(config);
  if (target.protocol !== 'grpc' || target.tls) throw new Error('the official-transport bench runs plaintext gRPC only');
  const headers = exportHeaders(config, agentId);
  const transport = createOtlpGrpcExporterTransport({
    address: target.address,
    grpcPath: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    grpcName: 'MetricsExportService',
    credentials: createInsecureCredentials,
    metadata: () => {
      const metadata = createEmptyMetadata();
      for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== 'user-agent') metadata.set(name.toLowerCase(), value);
      return metadata;
    },
    compression: config.exporter.otlp.compression,
  });
  return {
    protocol: 'grpc',
    target: `grpc://${target.address}`,
    async send(body, timeoutMs): Promise<SendResult> {
      const response = await transport.send(body, timeoutMs);
      if (response.status === 'success') return { outcome: 'ok' };
      return { outcome: 'retryable', reason: 'network', message: response.error?.message ?? response.status };
    },
    async close() {
      transport.shutdown();
    },
  };
}

transportModule.createTransport = officialTransport;
