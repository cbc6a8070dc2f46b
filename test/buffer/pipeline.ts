// A live export pipeline for the buffer tests, without timers: metrics recorded through the SDK,
// collected by a manual reader, exported by the real exporter over the real transport, spilled
// to the real buffer, replayed by the real replayer. The test decides when a cycle happens.
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ExportResultCode } from '@opentelemetry/core';
import { SpillBuffer } from '../../internal/buffer/buffer';
import { LiveFirstGate } from '../../internal/buffer/live-gate';
import { Replayer } from '../../internal/buffer/replayer';
import type { AgentConfig } from '../../internal/config/types';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createMetricExporter, type MetricExporter } from '../../internal/exporter/metric-exporter';
import { createTransport } from '../../internal/exporter/transport';
import type { OtlpTransport } from '../../internal/exporter/types';
import type { Logger } from '../../internal/log/logger';
import { keysOf, ManualReader } from './batches';

export class Pipeline {
  readonly accounting = new ExportAccounting();
  readonly buffer: SpillBuffer;
  readonly replayer: Replayer;
  readonly gate = new LiveFirstGate();
  /** Every point key produced, in order, as serialized for export. */
  readonly produced: string[] = [];
  private readonly transport: OtlpTransport;
  private readonly exporter: MetricExporter;
  private readonly reader = new ManualReader();
  private readonly provider: MeterProvider;
  private readonly gauge;
  private cycle = 0;
  private closed = false;

  constructor(config: AgentConfig, logger: Logger, private readonly series = 20) {
    this.transport = createTransport(config, 'buffer-test-agent');
    this.buffer = SpillBuffer.open({ config: config.buffer, accounting: this.accounting, logger });
    this.exporter = createMetricExporter({ transport: this.gate.wrap(this.transport), accounting: this.accounting, logger, timeoutMs: config.telemetryflow.timeout, spill: this.buffer });
    this.replayer = new Replayer({
      buffer: this.buffer,
      transport: this.transport,
      logger,
      timeoutMs: config.telemetryflow.timeout,
      retry: config.telemetryflow.retry,
      replayRate: config.buffer.replay_rate,
      idleIntervalMs: config.buffer.flush_interval,
      gate: this.gate,
    });
    this.provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'tfo-agent', 'host.name': 'pipeline-host' }), readers: [this.reader] });
    this.gauge = this.provider.getMeter('tfo-agent').createGauge('system.cpu.utilization', { unit: '1' });
  }

  /** One collection and export; resolves when the exporter is done (sent, spilled or dropped). */
  async exportCycle(): Promise<void> {
    const batch = this.cycle++;
    for (let i = 0; i < this.series; i += 1) this.gauge.record(batch * 1000 + i, { batch, series: i });
    const { resourceMetrics } = await this.reader.collect();
    this.produced.push(...keysOf({ body: ProtobufMetricsSerializer.serializeRequest(resourceMetrics) as Uint8Array, points: 0, createdAt: 0 }));
    const result = await new Promise<{ code: ExportResultCode }>((resolve) => this.exporter.export(resourceMetrics, resolve));
    if (result.code !== ExportResultCode.SUCCESS) throw new Error(`export cycle ${batch} failed`);
  }

  /** Stops everything; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.replayer.stop();
    await this.exporter.shutdown();
    await this.provider.shutdown();
    this.buffer.close();
    await this.transport.close();
  }
}
