// Real OTLP batches for the buffer tests and benchmark: metrics recorded through the SDK,
// collected by a manual reader and serialized by the same serializer the exporter uses.
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { EncodedBatch } from '../../internal/exporter/types';
import { decodeExportRequest, type ReceivedPoint } from '../support/otlp-receiver';

/** A reader the caller collects from; delta by default, so each collection holds only what is new. */
export class ManualReader extends MetricReader {
  constructor(temporality = AggregationTemporality.DELTA) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/**
 * Makes batches shaped like host metrics: `series` points per batch across a few metric names
 * with host-like attributes. Every point carries its batch number in `batch` and its value is
 * unique, so a test can tell exactly which points arrived and how often.
 */
export class BatchFactory {
  private readonly reader = new ManualReader();
  private readonly provider: MeterProvider;
  private readonly gauges;
  private seq = 0;

  constructor(private readonly series = 20) {
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'tfo-agent', 'host.name': 'buffer-test-host', 'host.id': 'f3c1a9e0' }),
      readers: [this.reader],
    });
    const meter = this.provider.getMeter('tfo-agent', '0.1.0');
    this.gauges = ['system.cpu.utilization', 'system.memory.usage', 'system.filesystem.usage', 'system.network.io'].map((name) =>
      meter.createGauge(name, { description: `${name} for the buffer tests`, unit: '1' }),
    );
  }

  /** The next batch; `createdAt` is the wall-clock time passed in (tests drive it). */
  async next(createdAt = Date.now()): Promise<EncodedBatch> {
    const batch = this.seq++;
    for (let i = 0; i < this.series; i += 1) {
      this.gauges[i % this.gauges.length].record(batch * 100_000 + i, { batch, series: i, 'system.device': `dev${i % 8}`, state: i % 2 === 0 ? 'used' : 'free' });
    }
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw errors[0];
    const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
    if (body === undefined) throw new Error('serializer returned nothing');
    return { body, points: this.series, createdAt };
  }

  async many(count: number, createdAt?: (i: number) => number): Promise<EncodedBatch[]> {
    const out: EncodedBatch[] = [];
    for (let i = 0; i < count; i += 1) out.push(await this.next(createdAt?.(i)));
    return out;
  }

  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** A point's identity: metric, batch, series and timestamps, as the receiver decoded it. */
export function pointKey(p: Pick<ReceivedPoint, 'name' | 'attributes' | 'timeUnixNano' | 'startTimeUnixNano' | 'value'>): string {
  return `${p.name}|${String(p.attributes.batch)}|${String(p.attributes.series)}|${p.startTimeUnixNano}|${p.timeUnixNano}|${p.value}`;
}

/** The point keys a batch holds, decoded with the receiver's own schema. */
export function keysOf(batch: EncodedBatch): string[] {
  const keys: string[] = [];
  for (const rm of decodeExportRequest(batch.body).resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        for (const p of m.gauge?.dataPoints ?? []) {
          const attrs = Object.fromEntries(p.attributes.map((kv) => [kv.key, kv.value?.intValue !== undefined ? Number(kv.value.intValue) : (kv.value?.stringValue ?? null)]));
          keys.push(pointKey({ name: m.name, attributes: attrs, startTimeUnixNano: BigInt(p.startTimeUnixNano), timeUnixNano: BigInt(p.timeUnixNano), value: p.asDouble ?? Number(p.asInt) }));
        }
      }
    }
  }
  return keys;
}
