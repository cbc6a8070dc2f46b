// The exporter the periodic reader calls, against the test receiver: what it sends, what it
// counts, what it logs, and what it hands to the spill sink.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, InstrumentType, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createMetricExporter, type MetricExporter } from '../../internal/exporter/metric-exporter';
import { createTransport } from '../../internal/exporter/transport';
import type { EncodedBatch, OtlpTransport, SendResult, SpillSink } from '../../internal/exporter/types';
import { createLogger, type Logger } from '../../internal/log/logger';
import { decodeExportRequest, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { collectSample, configFor, SAMPLE_POINTS, SECRET } from './fixtures';
import type { Protocol } from '../../internal/config/types';

/** Log lines as parsed JSON objects, captured from a real logger. */
function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') raw.push(line);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination });
  return {
    logger,
    raw,
    get lines() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

function exportOnce(exporter: MetricExporter, metrics: ResourceMetrics): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(metrics, resolve));
}

/** Stands in for the buffer at the seam: stores what it is given and counts it as the buffer would. */
class RecordingSpill implements SpillSink {
  readonly batches: Array<{ batch: EncodedBatch; failure: Extract<SendResult, { outcome: 'retryable' }> }> = [];
  fail?: Error;
  constructor(private readonly accounting: ExportAccounting) {}
  async spill(batch: EncodedBatch, failure: Extract<SendResult, { outcome: 'retryable' }>): Promise<void> {
    if (this.fail) throw this.fail;
    this.batches.push({ batch, failure });
    this.accounting.recordSpilled(batch.points);
  }
}

describe('metric exporter with a transport that throws', () => {
  it('still classifies and counts the batch', async () => {
    const accounting = new ExportAccounting();
    const log = captureLogger();
    const transport: OtlpTransport = {
      protocol: 'http',
      target: 'http://127.0.0.1:1/v2/metrics',
      send: () => Promise.reject(new Error('socket layer exploded')),
      close: async () => undefined,
    };
    const exporter = createMetricExporter({ transport, accounting, logger: log.logger, timeoutMs: 1000 });
    const result = await exportOnce(exporter, await collectSample());
    await exporter.shutdown();
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.equal(accounting.dropped.get('no_buffer'), SAMPLE_POINTS);
    assert.equal(accounting.unaccounted(), 0);
    assert.deepEqual(events(log.lines, 'export.failing').map((l) => [l.reason, l.message]), [['network', 'socket layer exploded']]);
  });
});

const events = (lines: Array<Record<string, unknown>>, event: string) => lines.filter((l) => l.event === event);

for (const protocol of ['grpc', 'http'] as Protocol[]) {
  describe(`metric exporter over ${protocol}`, () => {
    let receiver: OtlpReceiver;
    let sample: ResourceMetrics;
    let accounting: ExportAccounting;
    let log: ReturnType<typeof captureLogger>;

    before(async () => {
      receiver = await startOtlpReceiver();
      sample = await collectSample();
    });
    after(() => receiver.close());
    beforeEach(async () => {
      receiver.reset();
      receiver.accept();
      await receiver.up();
      accounting = new ExportAccounting();
      log = captureLogger();
    });

    const makeExporter = (options: { spill?: SpillSink; timeoutMs?: number } = {}): MetricExporter =>
      createMetricExporter({
        transport: createTransport(configFor(receiver, protocol), 'agent-7'),
        accounting,
        logger: log.logger,
        timeoutMs: options.timeoutMs ?? 5000,
        spill: options.spill,
      });

    it('exports what a real MeterProvider produced, cumulative, and counts it as exported live', async () => {
      const exporter = makeExporter();
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
      const provider = new MeterProvider({ readers: [reader] });
      const meter = provider.getMeter('pipeline');
      let calls = 0;
      meter.createObservableCounter('pipeline.ticks', { unit: '{tick}' }).addCallback((r) => r.observe(++calls * 10, { n: 'x' }));
      meter.createObservableUpDownCounter('pipeline.level', { unit: 'By' }).addCallback((r) => r.observe(1234.5));
      await provider.forceFlush();
      await provider.forceFlush();
      await provider.shutdown(); // collects and exports once more

      const ticks = receiver.points().filter((p) => p.name === 'pipeline.ticks');
      assert.deepEqual(ticks.map((p) => p.value), [10, 20, 30]);
      assert.ok(ticks.every((p) => p.kind === 'sum' && p.monotonic === true && p.temporality === 'AGGREGATION_TEMPORALITY_CUMULATIVE'));
      assert.equal(new Set(ticks.map((p) => p.startTimeUnixNano)).size, 1, 'cumulative: one start time');
      assert.ok(ticks[1].timeUnixNano > ticks[0].timeUnixNano);
      const level = receiver.points().filter((p) => p.name === 'pipeline.level');
      assert.deepEqual(level.map((p) => [p.kind, p.monotonic, p.value, p.unit]), Array(3).fill(['sum', false, 1234.5, 'By']));
      assert.equal(exporter.selectAggregationTemporality!(InstrumentType.UP_DOWN_COUNTER), AggregationTemporality.CUMULATIVE);

      assert.equal(accounting.produced, 6);
      assert.equal(accounting.exportedLive, 6);
      assert.equal(accounting.unaccounted(), 0);
      assert.equal(exporter.lastResult()?.ok, true);
      assert.equal(exporter.lastResult()?.points, 2);
      assert.equal(log.raw.length, 0, 'a healthy export logs nothing');
    });

    it('does not send an empty batch', async () => {
      const exporter = makeExporter();
      const result = await exportOnce(exporter, { resource: sample.resource, scopeMetrics: [{ scope: { name: 's' }, metrics: [] }] });
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(receiver.requests.length, 0);
      assert.equal(accounting.produced, 0);
      assert.equal(exporter.lastResult(), undefined);
    });

    it('without a buffer: counts no_buffer drops, logs the outage once with its reason, and the recovery', async () => {
      const exporter = makeExporter();
      await receiver.down();
      const results = [await exportOnce(exporter, sample), await exportOnce(exporter, sample), await exportOnce(exporter, sample)];
      assert.deepEqual(results.map((r) => r.code), [ExportResultCode.FAILED, ExportResultCode.FAILED, ExportResultCode.FAILED]);
      assert.equal(accounting.dropped.get('no_buffer'), 3 * SAMPLE_POINTS);
      assert.equal(exporter.lastResult()?.ok, false);
      assert.equal(exporter.lastResult()?.spilled, undefined);

      await receiver.up();
      let recovered = await exportOnce(exporter, sample);
      // The gRPC channel may still be backing off its reconnect for a moment.
      for (let i = 0; i < 20 && recovered.code !== ExportResultCode.SUCCESS; i++) {
        await new Promise((r) => setTimeout(r, 200));
        recovered = await exportOnce(exporter, sample);
      }
      assert.equal(recovered.code, ExportResultCode.SUCCESS);
      await exporter.shutdown();

      assert.equal(accounting.unaccounted(), 0);
      assert.equal(accounting.exportedLive, SAMPLE_POINTS);
      const failing = events(log.lines, 'export.failing');
      assert.ok(failing.length >= 1 && failing.length <= 2, `one line when the outage starts (another only if the reason changes): ${log.raw.join('\n')}`);
      assert.ok(['connection_refused', 'connection_reset', 'unavailable'].includes(String(failing[0].reason)), String(failing[0].reason));
      assert.equal(failing.at(-1)!.reason, 'connection_refused');
      const recoveredLines = events(log.lines, 'export.recovered');
      assert.equal(recoveredLines.length, 1);
      assert.ok(Number(recoveredLines[0].failures) >= 3);
      assert.equal(exporter.lastResult()?.ok, true);
    });

    it('with a buffer: hands the failed batch over intact and reports success to the SDK', async () => {
      const spill = new RecordingSpill(accounting);
      const exporter = makeExporter({ spill });
      receiver.respondWith({ httpStatus: 503, message: 'maintenance' });
      const result = await exportOnce(exporter, sample);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(spill.batches.length, 1);
      const { batch, failure } = spill.batches[0];
      assert.equal(batch.points, SAMPLE_POINTS);
      assert.equal(failure.reason, 'unavailable');
      // The stored bytes are the request the collector would have received.
      assert.deepEqual(decodeExportRequest(batch.body), receiver.requests[0].request);
      assert.equal(accounting.inBacklog, SAMPLE_POINTS);
      assert.equal(accounting.unaccounted(), 0);
      assert.deepEqual(
        { ok: exporter.lastResult()?.ok, reason: exporter.lastResult()?.reason, spilled: exporter.lastResult()?.spilled },
        { ok: false, reason: 'unavailable', spilled: true },
      );
    });

    it('a spill that fails is counted as spill_error and reported FAILED', async () => {
      const spill = new RecordingSpill(accounting);
      spill.fail = new Error('disk on fire');
      const exporter = makeExporter({ spill });
      receiver.respondWith({ httpStatus: 503 });
      const result = await exportOnce(exporter, sample);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal(accounting.dropped.get('spill_error'), SAMPLE_POINTS);
      assert.equal(accounting.unaccounted(), 0);
      assert.equal(events(log.lines, 'export.spill_failed').length, 1);
    });

    it('a rejection is dropped (never spilled), counted, and logged once per message with the collector text', async () => {
      const spill = new RecordingSpill(accounting);
      const exporter = makeExporter({ spill });
      receiver.respondWith({ httpStatus: 400, message: `metric name invalid (key ${SECRET})` });
      const results = [await exportOnce(exporter, sample), await exportOnce(exporter, sample)];
      receiver.respondWith({ httpStatus: 400, message: 'another problem' });
      results.push(await exportOnce(exporter, sample));
      await exporter.shutdown();
      assert.ok(results.every((r) => r.code === ExportResultCode.FAILED));
      assert.equal(spill.batches.length, 0);
      assert.equal(accounting.dropped.get('rejected'), 3 * SAMPLE_POINTS);
      assert.equal(accounting.unaccounted(), 0);
      const rejected = events(log.lines, 'export.rejected');
      assert.equal(rejected.length, 2, log.raw.join('\n'));
      assert.match(String(rejected[0].collector_message), /metric name invalid \(key \*\*\*\)/);
      assert.match(String(rejected[1].collector_message), /another problem/);
      assert.equal(events(log.lines, 'export.failing').length, 0, 'a reachable collector is not an outage');
    });

    it('logs the reason an operator acts on: credentials, timeout', async () => {
      const spill = new RecordingSpill(accounting);
      const exporter = makeExporter({ spill, timeoutMs: 300 });
      receiver.respondWith({ httpStatus: 401, message: 'unknown key id' });
      await exportOnce(exporter, sample);
      receiver.hang();
      await exportOnce(exporter, sample);
      receiver.accept();
      await exporter.shutdown();
      const failing = events(log.lines, 'export.failing');
      assert.deepEqual(failing.map((l) => l.reason), ['credentials', 'timeout']);
      assert.match(String(failing[0].message), /unknown key id/);
      assert.equal(spill.batches.length, 2);
    });

    it('never writes the secret to a log line', async () => {
      const exporter = makeExporter();
      receiver.respondWith({ httpStatus: 403, message: `key secret ${SECRET} is revoked` });
      await exportOnce(exporter, sample);
      receiver.respondWith({ httpStatus: 400, message: `echo ${SECRET}` });
      await exportOnce(exporter, sample);
      receiver.accept();
      await exportOnce(exporter, sample);
      await exporter.shutdown();
      assert.ok(log.raw.length >= 3, log.raw.join('\n'));
      for (const line of log.raw) assert.ok(!line.includes(SECRET), `secret in log line: ${line}`);
      assert.ok(receiver.requests.every((r) => r.headers['x-telemetryflow-key-secret'] === SECRET), 'the secret is still sent');
    });

    it('forceFlush waits for an export in flight; after shutdown nothing is sent', async () => {
      const exporter = makeExporter({ timeoutMs: 400 });
      receiver.hang();
      let settled: ExportResult | undefined;
      exporter.export(sample, (r) => (settled = r));
      await exporter.forceFlush();
      assert.equal(settled?.code, ExportResultCode.FAILED);
      receiver.accept();
      await exporter.shutdown();
      receiver.reset();
      const after = await exportOnce(exporter, sample);
      assert.equal(after.code, ExportResultCode.FAILED);
      assert.equal(receiver.requests.length, 0);
    });
  });
}
