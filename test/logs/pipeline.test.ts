// The log pipeline's sends against a real OTLP logs service on loopback (gRPC and HTTP): a blip is
// retried in memory (telemetryflow.retry) so it never reaches the buffer's file, and a collector
// asking the agent to wait is not asked again until the wait is over: the batches in between
// spill with the wait left. The same retry and hold as the metric exporter's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DB_FILE } from '../../internal/buffer/store';
import { BufferRuntime } from '../../internal/buffer/runtime';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createTransport } from '../../internal/exporter/transport';
import { silentLogger } from '../../internal/log/logger';
import { LogPipeline, type LogPipelineOptions } from '../../internal/logs/pipeline';
import type { LogRecord } from '../../internal/logs/records';
import { RecordingSpill } from '../support/recording-spill';
import { GRPC_LOGS_EXPORT_PATH, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { agentConfig, assertIdentity, withTempDir } from '../buffer/helpers';

const RETRY = { maxAttempts: 3, initialMs: 200, maxMs: 400 };

function record(body: string): LogRecord {
  const time: [number, number] = [1_700_000_000, 0];
  return { time, observedTime: time, severity: 'ERROR', body, attributes: { plugin: 'df' }, resource: { 'host.name': 'web1' } };
}

/** Emits `bodies` as one batch and waits until it is sent (or spilled). */
async function sendBatch(logs: LogPipeline, ...bodies: string[]): Promise<void> {
  for (const body of bodies) logs.emit(record(body));
  await logs.flush();
}

/** The log pipeline with the real buffer behind it (its file, its replayer), against a real collector. */
async function withLiveLogs(
  protocol: 'http' | 'grpc',
  options: Partial<LogPipelineOptions>,
  body: (ctx: { receiver: OtlpReceiver; logs: LogPipeline; accounting: ExportAccounting; bufferFile: string }) => Promise<void>,
): Promise<void> {
  const receiver = await startOtlpReceiver();
  try {
    await withTempDir('logs-retry', async (dir) => {
      const config = agentConfig(dir, protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl, protocol);
      const accounting = new ExportAccounting();
      const metricsTransport = createTransport(config, 'logs-retry-test');
      const logsTransport = createTransport(config, 'logs-retry-test', {}, 'logs');
      const runtime = BufferRuntime.start(config, metricsTransport, accounting, silentLogger(), () => logsTransport);
      const logs = new LogPipeline({ transport: logsTransport, accounting, logger: silentLogger(), timeoutMs: 3000, flushIntervalMs: 60_000, maxBatch: 100, spill: runtime.buffer, ...options });
      try {
        await body({ receiver, logs, accounting, bufferFile: join(config.buffer.path, DB_FILE) });
        assertIdentity(accounting);
      } finally {
        await logs.stop();
        await runtime.stop();
        await metricsTransport.close();
        await logsTransport.close();
      }
    });
  } finally {
    await receiver.close();
  }
}

/** The log pipeline with a recording spill sink (no replayer sending too), against a real collector. */
async function withRecordingLogs(
  protocol: 'http' | 'grpc',
  options: Partial<LogPipelineOptions>,
  body: (ctx: { receiver: OtlpReceiver; logs: LogPipeline; accounting: ExportAccounting; spill: RecordingSpill }) => Promise<void>,
): Promise<void> {
  const receiver = await startOtlpReceiver();
  const accounting = new ExportAccounting();
  const spill = new RecordingSpill(accounting);
  const config = agentConfig('unused', protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl, protocol);
  const transport = createTransport(config, 'logs-recording-test', {}, 'logs');
  const logs = new LogPipeline({ transport, accounting, logger: silentLogger(), timeoutMs: 3000, flushIntervalMs: 60_000, maxBatch: 100, spill, ...options });
  try {
    await body({ receiver, logs, accounting, spill });
    assert.equal(accounting.unaccounted(), 0);
  } finally {
    await logs.stop();
    await transport.close();
    await receiver.close();
  }
}

describe('log exports: the in-memory retry (telemetryflow.retry)', () => {
  for (const protocol of ['http', 'grpc'] as const) {
    it(`${protocol}: a logs service that fails once then succeeds gets the batch on the second try; nothing is spilled`, async () => {
      await withLiveLogs(protocol, { retry: RETRY }, async ({ receiver, logs, accounting, bufferFile }) => {
        receiver.respondWith({ httpStatus: 503, grpcCode: grpcStatus.UNAVAILABLE, message: 'restarting', times: 1 });
        await sendBatch(logs, 'disk full', 'disk almost full');
        assert.equal(receiver.requests.length, 2);
        assert.ok(receiver.requests.every((r) => r.signal === 'logs'), 'sent to the logs service');
        if (protocol === 'grpc') assert.equal(receiver.requests[1].path, GRPC_LOGS_EXPORT_PATH);
        else assert.equal(receiver.requests[1].path, '/v1/logs');
        assert.deepEqual(receiver.logRecords().map((r) => r.body), ['disk full', 'disk almost full']);
        assert.equal(accounting.exportedLive, 2);
        assert.equal(accounting.spilled, 0);
        assert.equal(existsSync(bufferFile), false, 'the buffer file was never written');
      });
    });
  }

  it('stops after max_attempts and spills; credentials and a disabled retry get one attempt', async () => {
    await withRecordingLogs('http', { retry: RETRY }, async ({ receiver, logs, spill }) => {
      receiver.respondWith({ httpStatus: 503, message: 'down' });
      await sendBatch(logs, 'a');
      assert.equal(receiver.requests.length, 3);
      assert.equal(spill.failures.length, 1);
      receiver.respondWith({ httpStatus: 401, message: 'key rotated' });
      await sendBatch(logs, 'b');
      assert.equal(receiver.requests.length, 4, 'credentials are not retried in memory');
      assert.equal(spill.failures.length, 2, 'kept through a credential rotation');
    });
    await withRecordingLogs('http', {}, async ({ receiver, logs, spill }) => {
      receiver.respondWith({ httpStatus: 503, message: 'down' });
      await sendBatch(logs, 'a');
      assert.equal(receiver.requests.length, 1, 'retry.enabled: false');
      assert.equal(spill.failures.length, 1);
    });
  });

  it('stopping ends a retry wait: the batch spills at once', async () => {
    await withRecordingLogs('http', { retry: { maxAttempts: 5, initialMs: 20_000, maxMs: 20_000 }, timeoutMs: 60_000 }, async ({ receiver, logs, spill }) => {
      receiver.respondWith({ httpStatus: 503, message: 'down' });
      logs.emit(record('last words'));
      const sending = logs.flush();
      await receiver.waitFor((r) => r.requests.length >= 1, 5000);
      const started = performance.now();
      await logs.stop();
      await sending;
      assert.ok(performance.now() - started < 5000, 'stop did not wait out the backoff');
      assert.equal(receiver.requests.length, 1);
      assert.equal(spill.failures.length, 1);
    });
  });
});

describe('log exports honour the collector\'s requested wait', () => {
  for (const protocol of ['http', 'grpc'] as const) {
    it(`${protocol}: after "wait 30 s" the next batches go to the buffer without asking the collector again`, async () => {
      let now = 0;
      await withRecordingLogs(protocol, { retry: RETRY, monotonic: () => now }, async ({ receiver, logs, accounting, spill }) => {
        receiver.respondWith({ httpStatus: 503, grpcCode: grpcStatus.UNAVAILABLE, retryAfterSeconds: 30, message: 'overloaded' });
        for (let i = 0; i < 4; i += 1) {
          await sendBatch(logs, `notification ${i}`);
          now += 5000;
        }
        assert.equal(receiver.requests.length, 1, 'asked once, then waited as told');
        assert.equal(spill.failures.length, 4);
        assert.ok(spill.batches.every((b) => b.signal === 'logs'), 'spilled as logs, replayed to the logs service');
        assert.deepEqual(spill.failures.map((f) => f.retryAfterMs), [30_000, 25_000, 20_000, 15_000], 'the wait left travels with the spilled batch');
        now += 15_000;
        receiver.accept();
        await sendBatch(logs, 'after the wait');
        assert.equal(receiver.requests.length, 2, 'asked again once the wait is over');
        assert.deepEqual(receiver.logRecords().map((r) => r.body), ['after the wait']);
        assert.equal(accounting.exportedLive, 1);
      });
    });
  }
});
