// Shared by the exporter tests: a small real SDK pipeline to export, and configs aimed at a test
// receiver.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig, Protocol } from '../../internal/config/types';
import type { SendResult } from '../../internal/exporter/types';
import { FIXTURES } from '../support/paths';
import type { OtlpReceiver } from '../support/otlp-receiver';

export const TLS_DIR = join(FIXTURES, 'tls');
export const tlsFile = (name: string): string => join(TLS_DIR, name);

/** A reader the test drives by hand. */
export class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * A monotonic int counter (7, route=/a), a double gauge (21.5 sensor=a, -3.25 sensor=b) and a
 * histogram (one 0.2 s value): 4 data points, collected through the real SDK.
 */
export async function collectSample(): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'exporter-test', 'host.name': 'h1' }), readers: [reader] });
  const meter = provider.getMeter('test-scope', '1.2.3');
  meter.createCounter('test.requests', { unit: '{request}', valueType: ValueType.INT }).add(7, { route: '/a' });
  meter.createObservableGauge('test.temperature', { unit: 'Cel' }).addCallback((r) => {
    r.observe(21.5, { sensor: 'a' });
    r.observe(-3.25, { sensor: 'b' });
  });
  meter.createHistogram('test.latency', { unit: 's' }).record(0.2);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

export const SAMPLE_POINTS = 4;
export const SECRET = 'tfs_super-secret-value-0123456789';

/** The default config aimed at a receiver, without TLS unless overridden. */
export function configFor(receiver: OtlpReceiver, protocol: Protocol, mutate: (c: AgentConfig) => void = () => undefined): AgentConfig {
  const config = defaultConfig();
  config.telemetryflow.protocol = protocol;
  config.telemetryflow.endpoint = protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl;
  config.telemetryflow.tls.enabled = false;
  config.telemetryflow.api_key_id = 'tfk_test-key-id';
  config.telemetryflow.api_key_secret = SECRET;
  config.exporter.otlp.compression = 'none';
  mutate(config);
  return config;
}

/** Asserts that a send failed and narrows the result to its failure detail. */
export function failure(result: SendResult): Exclude<SendResult, { outcome: 'ok' }> {
  assert.notEqual(result.outcome, 'ok', 'expected the send to fail');
  return result as Exclude<SendResult, { outcome: 'ok' }>;
}
