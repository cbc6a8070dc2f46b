// Requests the collector takes: an export is cut by exporter.otlp.batch_size (points) and
// max_request_bytes, against a real receiver with a collector's 4 MiB gRPC receive limit (and an
// HTTP body limit); a request refused for its size is sent in halves; a point that cannot fit is
// dropped and counted, never retried. Every point arrives once and the accounting adds up.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Protocol } from '../../internal/config/types';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { MetricsEncoder, type MetricsBatch } from '../../internal/exporter/encode';
import { createMetricExporter, type MetricExporter } from '../../internal/exporter/metric-exporter';
import { countDataPoints, slicePoints } from '../../internal/exporter/requests';
import { createTransport } from '../../internal/exporter/transport';
import type { EncodedBatch, SendResult, SpillSink } from '../../internal/exporter/types';
import { captureLogger } from '../heartbeat/helpers';
import { decodeExportRequest, startOtlpReceiver, type OtlpReceiver, type ReceivedPoint } from '../support/otlp-receiver';
import { configFor } from './fixtures';

const MiB = 1024 * 1024;
const T: [number, number] = [1_795_000_000, 5];
const METRICS = ['process.cpu.time', 'process.memory.usage', 'process.memory.virtual', 'process.disk.io', 'process.threads', 'process.open_file_descriptors', 'process.context_switches', 'process.paging.faults'];

/** `processes` tracked processes, one point of each of 8 metrics, each with a command line of `commandLineBytes`. */
function processExport(processes: number, commandLineBytes: number, cycle = 1): ResourceMetrics {
  const attributes: Attributes[] = [];
  for (let pid = 1; pid <= processes; pid++) {
    attributes.push({ 'process.pid': pid, 'process.executable.name': `worker-${pid}`, 'process.command_line': `/usr/bin/worker-${pid} ${'x'.repeat(Math.max(0, commandLineBytes - 20))}` });
  }
  const metrics = METRICS.map((name, m): MetricData => ({
    descriptor: { name, description: '', unit: '1', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: attributes.map((a, i) => ({ startTime: T, endTime: [T[0] + cycle, 0], attributes: a, value: cycle * 1_000_000 + m * 1000 + i })),
  }));
  return { resource: resourceFromAttributes({ 'host.name': 'node-1', 'service.name': 'tfo-agent' }), scopeMetrics: [{ scope: { name: 'tfo-agent', version: '0.1.0' }, metrics }] };
}

/** One key per point: which metric, which process, which value. */
const keyOf = (p: ReceivedPoint): string => `${p.name}|${String(p.attributes['process.pid'])}|${p.value}`;
const keysOf = (metrics: ResourceMetrics): string[] =>
  metrics.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints.map((d) => `${m.descriptor.name}|${String(d.attributes['process.pid'])}|${d.value as number}`)));

function exportOnce(exporter: MetricExporter, metrics: ResourceMetrics): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(metrics, resolve));
}

/** Every point sent arrived, none twice. */
function assertEachOnce(receiver: OtlpReceiver, expected: string[]): void {
  const received = receiver.points().map(keyOf);
  assert.equal(new Set(received).size, received.length, 'a point arrived twice');
  assert.deepEqual([...received].sort(), [...expected].sort());
}

/** Stands in for the buffer at the seam: stores what it is given and counts it as the buffer would. */
class RecordingSpill implements SpillSink {
  readonly batches: EncodedBatch[] = [];
  constructor(private readonly accounting: ExportAccounting) {}
  async spill(batch: EncodedBatch, _failure: Extract<SendResult, { outcome: 'retryable' }>): Promise<void> {
    this.batches.push(batch);
    this.accounting.recordSpilled(batch.points);
  }
}

describe('slicing an export into requests', () => {
  it('keeps every point once, in order, across resources, and shares the objects the encoder caches by', () => {
    const first = processExport(3, 40);
    const second = { ...processExport(2, 40, 2), resource: resourceFromAttributes({ 'host.name': 'sender-2' }) };
    const batch: MetricsBatch = { ...first, others: [second] };
    const total = countDataPoints(batch);
    assert.equal(total, 8 * 3 + 8 * 2);
    const all = [batch, ...batch.others!].flatMap(keysOf);
    for (const size of [1, 5, 7, total - 1, total]) {
      const parts: MetricsBatch[] = [];
      for (let from = 0; from < total; from += size) parts.push(slicePoints(batch, from, Math.min(total, from + size)));
      assert.deepEqual(parts.flatMap((p) => [p, ...(p.others ?? [])].flatMap(keysOf)), all, `slices of ${size}`);
      assert.deepEqual(parts.map(countDataPoints), parts.map((_, i) => Math.min(size, total - i * size)));
    }
    const tail = slicePoints(batch, total - 3, total);
    assert.equal(tail.resource, second.resource, 'a slice of the second resource only starts with it');
    assert.equal(tail.others, undefined);
    const middle = slicePoints(batch, 2, 5);
    assert.equal(middle.scopeMetrics[0].metrics[0].descriptor, first.scopeMetrics[0].metrics[0].descriptor);
    assert.equal(middle.scopeMetrics[0].metrics[0].dataPoints[0].attributes, first.scopeMetrics[0].metrics[0].dataPoints[2].attributes);
    // The slices encode to what the whole encodes to, point for point.
    const encoder = new MetricsEncoder();
    const decoded = [slicePoints(batch, 0, 17), slicePoints(batch, 17, total)].flatMap((p) => decodeExportRequest(encoder.encode(p)!).resourceMetrics);
    assert.equal(decoded.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.gauge!.dataPoints))).length, total);
  });
});

for (const protocol of ['grpc', 'http'] as Protocol[]) {
  describe(`request size over ${protocol}, against a collector with a 4 MiB limit`, () => {
    let receiver: OtlpReceiver;
    let accounting: ExportAccounting;
    let log: ReturnType<typeof captureLogger>;

    before(async () => {
      receiver = await startOtlpReceiver({ maxMessageBytes: 4 * MiB });
    });
    after(() => receiver.close());
    beforeEach(() => {
      receiver.reset();
      receiver.accept();
      accounting = new ExportAccounting();
      log = captureLogger();
    });

    const makeExporter = (limits: { maxPoints: number; maxBytes: number }, spill?: SpillSink, compression: 'gzip' | 'none' = 'gzip'): MetricExporter =>
      createMetricExporter({
        transport: createTransport(configFor(receiver, protocol, (c) => { c.exporter.otlp.compression = compression; }), 'agent-7'),
        accounting,
        logger: log.logger,
        timeoutMs: 10_000,
        spill,
        limits,
      });
    const events = (event: string) => log.events().filter((l) => l.event === event);

    it('sends 150 processes with 30 kB command lines (about 36 MB) as requests under max_request_bytes, every point once', async () => {
      const spill = new RecordingSpill(accounting);
      const exporter = makeExporter({ maxPoints: 8192, maxBytes: 3 * MiB }, spill);
      const metrics = processExport(150, 30_000);
      const result = await exportOnce(exporter, metrics);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(spill.batches.length, 0, 'nothing was refused and spilled');
      assertEachOnce(receiver, keysOf(metrics));
      assert.ok(receiver.requests.length >= 12, `${receiver.requests.length} requests`);
      assert.ok(receiver.requests.every((r) => r.accepted));
      if (protocol === 'grpc') assert.ok(receiver.requests.every((r) => r.bodyBytes <= 3 * MiB), 'each request within max_request_bytes');
      assert.equal(accounting.produced, 1200);
      assert.equal(accounting.exportedLive, 1200);
      assert.equal(accounting.unaccounted(), 0);
      assert.equal(exporter.lastResult()?.ok, true);
      assert.equal(log.lines.length, 0, 'cutting to the configured size is not worth a log line');
    });

    it('sends at most batch_size points a request', async () => {
      const exporter = makeExporter({ maxPoints: 10, maxBytes: 3 * MiB });
      const metrics = processExport(12, 100); // 96 points
      const result = await exportOnce(exporter, metrics);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assertEachOnce(receiver, keysOf(metrics));
      const sizes = receiver.requests.map((r) => r.request.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.gauge!.dataPoints))).length);
      assert.deepEqual(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 6]);
      assert.equal(accounting.exportedLive, 96);
      assert.equal(accounting.unaccounted(), 0);
    });

    it('sends a request the collector refuses as too large in halves, and cuts the next exports to fit at once', async () => {
      const spill = new RecordingSpill(accounting);
      // Configured above the collector's limit and uncompressed, so the collector is the one that says no.
      const exporter = makeExporter({ maxPoints: 8192, maxBytes: 64 * MiB }, spill, 'none');
      const first = processExport(150, 10_000, 1); // about 12 MB
      assert.equal((await exportOnce(exporter, first)).code, ExportResultCode.SUCCESS);
      assertEachOnce(receiver, keysOf(first));
      assert.equal(spill.batches.length, 0, 'a refusal for size is not a reason to spill');
      assert.equal(events('export.request_split').length, 1, 'logged once');
      // grpc-js may only reset the stream (ENHANCE_YOUR_CALM) while most of the request is still arriving.
      assert.match(String(events('export.request_split')[0].collector_message), protocol === 'grpc' ? /larger than|too large|stream reset/i : /larger than|too large/i);

      receiver.reset();
      const second = processExport(150, 10_000, 2);
      assert.equal((await exportOnce(exporter, second)).code, ExportResultCode.SUCCESS);
      await exporter.shutdown();
      assertEachOnce(receiver, keysOf(second));
      if (protocol === 'http') assert.ok(receiver.requests.every((r) => r.accepted), 'no refused request on the next export');
      assert.equal(events('export.request_split').length, 1);
      assert.equal(accounting.exportedLive, 2400);
      assert.equal(accounting.unaccounted(), 0);
    });

    it('drops a point that alone is over max_request_bytes, counts it, logs once per streak, and sends the rest', async () => {
      const spill = new RecordingSpill(accounting);
      const exporter = makeExporter({ maxPoints: 8192, maxBytes: 1 * MiB }, spill);
      const send = async (cycle: number, huge: boolean): Promise<{ result: ExportResult; metrics: ResourceMetrics }> => {
        const metrics = processExport(20, 200, cycle);
        if (huge) (metrics.scopeMetrics[0].metrics[0].dataPoints[5] as { attributes: Attributes }).attributes = { 'process.pid': 6, 'process.command_line': 'y'.repeat(2 * MiB) };
        return { result: await exportOnce(exporter, metrics), metrics };
      };
      const one = await send(1, true);
      const two = await send(2, true);
      const three = await send(3, false);
      await exporter.shutdown();
      assert.equal(one.result.code, ExportResultCode.FAILED);
      assert.equal(two.result.code, ExportResultCode.FAILED);
      assert.equal(three.result.code, ExportResultCode.SUCCESS);
      const expected = [one, two, three].flatMap(({ metrics }) => keysOf(metrics)).filter((k) => !/^process\.cpu\.time\|6\|[12]000005$/.test(k));
      assertEachOnce(receiver, expected);
      assert.equal(spill.batches.length, 0, 'never handed to the buffer to be retried');
      assert.equal(accounting.dropped.get('too_large'), 2);
      assert.equal(accounting.exportedLive, 3 * 160 - 2);
      assert.equal(accounting.unaccounted(), 0);
      const failing = events('export.too_large.failing');
      assert.equal(failing.length, 1, 'once per streak');
      assert.equal(failing[0].max_request_bytes, 1 * MiB);
      assert.match(String(failing[0].message), /max_request_bytes/);
      assert.equal(events('export.too_large.recovered').length, 1);
    });

    it('drops a single point the collector refuses as too large instead of retrying it forever', async () => {
      const spill = new RecordingSpill(accounting);
      const exporter = makeExporter({ maxPoints: 8192, maxBytes: 64 * MiB }, spill, 'none');
      const metrics = processExport(1, 100);
      metrics.scopeMetrics[0].metrics = [metrics.scopeMetrics[0].metrics[0]];
      (metrics.scopeMetrics[0].metrics[0].dataPoints[0] as { attributes: Attributes }).attributes = { 'process.pid': 1, 'process.command_line': 'z'.repeat(5 * MiB) };
      const result = await exportOnce(exporter, metrics);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal(receiver.points().length, 0);
      assert.equal(spill.batches.length, 0);
      assert.equal(accounting.dropped.get('too_large'), 1);
      assert.equal(accounting.unaccounted(), 0);
      assert.equal(exporter.lastResult()?.reason, 'too_large');
      assert.equal(events('export.too_large.failing').length, 1);
    });

    it('after a retryable failure hands the rest of the export to the buffer unsent, request by request', async () => {
      const spill = new RecordingSpill(accounting);
      const exporter = makeExporter({ maxPoints: 10, maxBytes: 3 * MiB }, spill);
      receiver.respondWith({ httpStatus: 503, message: 'busy', times: 1 });
      const metrics = processExport(5, 100); // 40 points: 4 requests
      const result = await exportOnce(exporter, metrics);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS, 'safely in the buffer');
      assert.equal(receiver.requests.length, 1, 'one attempt, not one per request');
      assert.deepEqual(spill.batches.map((b) => b.points), [10, 10, 10, 10]);
      const spilled = spill.batches.flatMap((b) => decodeExportRequest(b.body).resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.gauge!.dataPoints))));
      assert.equal(spilled.length, 40);
      assert.equal(accounting.spilled, 40);
      assert.equal(accounting.unaccounted(), 0);
      assert.equal(exporter.lastResult()?.spilled, true);
      assert.equal(events('export.failing').length, 1);
    });

    it('counts each request of a partly accepted export by its own answer', async () => {
      const exporter = makeExporter({ maxPoints: 10, maxBytes: 3 * MiB });
      receiver.respondWith({ partialSuccess: { rejectedDataPoints: 2, errorMessage: 'two were stale' }, times: 1 });
      const metrics = processExport(3, 100); // 24 points: 10, 10, 4
      const result = await exportOnce(exporter, metrics);
      receiver.respondWith({ httpStatus: 400, message: 'bad data', times: 1 });
      const next = processExport(3, 100, 2);
      const rejected = await exportOnce(exporter, next);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(rejected.code, ExportResultCode.FAILED);
      assert.equal(accounting.exportedLive, 24 + 14);
      assert.equal(accounting.dropped.get('rejected'), 10);
      assert.equal(accounting.unaccounted(), 0);
      assert.equal(events('export.partial_success').length, 1);
    });
  });
}
