// The exporter's failure paths against a real collector on loopback: nothing floods it, nothing
// loops. A collector asking the agent to wait, however long, is asked again only after a bounded
// wait (never a delay that overflows Node's timers, which then fire after 1 ms); a batch it
// refuses for what it is leaves the backlog instead of being retried forever; a blip is retried
// in memory (telemetryflow.retry) so it never reaches the buffer's file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DB_FILE } from '../../internal/buffer/store';
import { BufferRuntime } from '../../internal/buffer/runtime';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createMetricExporter, type MetricExporter, type MetricExporterOptions } from '../../internal/exporter/metric-exporter';
import { createTransport } from '../../internal/exporter/transport';
import { silentLogger } from '../../internal/log/logger';
import { RecordingSpill } from '../support/recording-spill';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverResponse } from '../support/otlp-receiver';
import { BatchFactory } from '../buffer/batches';
import { agentConfig, assertIdentity, until, withTempDir } from '../buffer/helpers';
import { collectSample, SAMPLE_POINTS } from './fixtures';

const WATCH_MS = 3000;

interface Case {
  name: string;
  protocol: 'http' | 'grpc';
  answer: ReceiverResponse;
}

/** A running buffer runtime whose 3 stored batches (30 points) meet a collector giving `answer`. */
async function withBacklog(
  { protocol, answer }: Case,
  body: (ctx: { receiver: OtlpReceiver; runtime: BufferRuntime; accounting: ExportAccounting }) => Promise<void>,
): Promise<void> {
  const receiver = await startOtlpReceiver();
  const factory = new BatchFactory(10);
  try {
    await withTempDir('failure-paths', async (dir) => {
      const config = agentConfig(dir, protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl, protocol);
      const accounting = new ExportAccounting();
      const transport = createTransport(config, 'failure-paths-test');
      receiver.respondWith(answer);
      const runtime = BufferRuntime.start(config, transport, accounting, silentLogger());
      try {
        for (const batch of await factory.many(3)) {
          accounting.recordProduced(batch.points);
          runtime.buffer.accept(batch);
        }
        await body({ receiver, runtime, accounting });
      } finally {
        await runtime.stop();
        await transport.close();
      }
    });
  } finally {
    await factory.close();
    await receiver.close();
  }
}

const waits: Case[] = [
  { name: 'HTTP 503 with retry-after: 3000000', protocol: 'http', answer: { httpStatus: 503, retryAfter: '3000000' } },
  { name: 'HTTP 503 with an HTTP date far ahead', protocol: 'http', answer: { httpStatus: 503, retryAfter: 'Fri, 31 Dec 9999 23:59:59 GMT' } },
  { name: 'gRPC UNAVAILABLE with a RetryInfo of 3000000 s', protocol: 'grpc', answer: { grpcCode: grpcStatus.UNAVAILABLE, retryAfterSeconds: 3_000_000 } },
];

describe('a collector asking for a huge wait', () => {
  for (const c of waits) {
    it(`${c.name}: the backlog is offered a bounded number of times, no timer overflows`, async () => {
      const warnings: string[] = [];
      const onWarning = (warning: Error): void => void warnings.push(warning.name);
      process.on('warning', onWarning);
      try {
        await withBacklog(c, async ({ receiver, runtime }) => {
          await receiver.waitFor((r) => r.requests.length >= 1, 5000);
          await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
          // One request, then the (capped) wait; the old code sent thousands.
          assert.ok(receiver.requests.length <= 2, `${receiver.requests.length} requests in ${WATCH_MS} ms`);
          assert.equal(runtime.status().backlog_batches, 3, 'nothing lost while waiting');
        });
      } finally {
        process.off('warning', onWarning);
      }
      assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
    });
  }
});

const refusals: Case[] = [
  { name: 'gRPC INTERNAL', protocol: 'grpc', answer: { grpcCode: grpcStatus.INTERNAL, message: 'failed to process' } },
  { name: 'gRPC RESOURCE_EXHAUSTED without RetryInfo (over the receive limit)', protocol: 'grpc', answer: { grpcCode: grpcStatus.RESOURCE_EXHAUSTED, message: 'received message larger than max' } },
  { name: 'HTTP 413', protocol: 'http', answer: { httpStatus: 413, message: 'request entity too large' } },
  { name: 'HTTP 500', protocol: 'http', answer: { httpStatus: 500, message: 'failed to process' } },
];

describe('a batch the collector refuses for what it is', () => {
  for (const c of refusals) {
    it(`${c.name}: each stored batch is offered once more on its own, then quarantined; the backlog moves on`, async () => {
      await withBacklog(c, async ({ receiver, runtime, accounting }) => {
        await until(() => runtime.status().backlog_batches === 0, 'the backlog emptied', 5000);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        // One request of all three, then each alone; the old code retried them for ever.
        assert.equal(receiver.requests.length, 4);
        assert.equal(runtime.status().quarantined_batches, 3);
        assert.equal(accounting.dropped.get('rejected'), 30);
        assertIdentity(accounting, 0);
      });
    });
  }
});

const RETRY = { maxAttempts: 3, initialMs: 200, maxMs: 400 };

function exportOnce(exporter: MetricExporter, metrics: ResourceMetrics): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(metrics, resolve));
}

/** The live exporter with the real buffer behind it, against a real collector. */
async function withLiveExport(
  protocol: 'http' | 'grpc',
  options: Partial<MetricExporterOptions>,
  body: (ctx: { receiver: OtlpReceiver; exporter: MetricExporter; accounting: ExportAccounting; bufferFile: string }) => Promise<void>,
): Promise<void> {
  const receiver = await startOtlpReceiver();
  try {
    await withTempDir('live-retry', async (dir) => {
      const config = agentConfig(dir, protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl, protocol);
      const accounting = new ExportAccounting();
      const transport = createTransport(config, 'live-retry-test');
      const runtime = BufferRuntime.start(config, transport, accounting, silentLogger());
      const exporter = createMetricExporter({ transport: runtime.liveTransport, accounting, logger: silentLogger(), timeoutMs: 3000, spill: runtime.buffer, ...options });
      try {
        await body({ receiver, exporter, accounting, bufferFile: join(config.buffer.path, DB_FILE) });
        assertIdentity(accounting);
      } finally {
        await exporter.shutdown();
        await runtime.stop();
      }
    });
  } finally {
    await receiver.close();
  }
}

describe('the in-memory retry (telemetryflow.retry)', () => {
  for (const protocol of ['http', 'grpc'] as const) {
    it(`${protocol}: a collector that fails once then succeeds gets the batch on the second try; nothing is spilled`, async () => {
      await withLiveExport(protocol, { retry: RETRY }, async ({ receiver, exporter, accounting, bufferFile }) => {
        receiver.respondWith({ httpStatus: 503, grpcCode: grpcStatus.UNAVAILABLE, message: 'restarting', times: 1 });
        const result = await exportOnce(exporter, await collectSample());
        assert.equal(result.code, ExportResultCode.SUCCESS);
        assert.equal(receiver.requests.length, 2);
        assert.equal(receiver.points().length, SAMPLE_POINTS);
        assert.equal(accounting.exportedLive, SAMPLE_POINTS);
        assert.equal(accounting.spilled, 0);
        assert.equal(existsSync(bufferFile), false, 'the buffer file was never written');
        assert.equal(exporter.lastResult()?.ok, true);
      });
    });
  }

  it('a collector down for a moment (connection refused) is reached on a later try', async () => {
    await withLiveExport('http', { retry: RETRY }, async ({ receiver, exporter, accounting }) => {
      await receiver.down();
      setTimeout(() => void receiver.up(), 50);
      assert.equal((await exportOnce(exporter, await collectSample())).code, ExportResultCode.SUCCESS);
      assert.equal(accounting.exportedLive, SAMPLE_POINTS);
      assert.equal(accounting.spilled, 0);
    });
  });

  it('stops after max_attempts and spills; credentials and a disabled retry get one attempt', async () => {
    await withRecordingExport('http', { retry: RETRY }, async ({ receiver, exporter, spill }) => {
      receiver.respondWith({ httpStatus: 503, message: 'down' });
      await exportOnce(exporter, await collectSample());
      assert.equal(receiver.requests.length, 3);
      assert.equal(spill.failures.length, 1);
      receiver.respondWith({ httpStatus: 401, message: 'key rotated' });
      await exportOnce(exporter, await collectSample());
      assert.equal(receiver.requests.length, 4, 'credentials are not retried in memory');
      assert.equal(spill.failures.length, 2, 'kept through a credential rotation');
    });
    await withRecordingExport('http', {}, async ({ receiver, exporter, spill }) => {
      receiver.respondWith({ httpStatus: 503, message: 'down' });
      await exportOnce(exporter, await collectSample());
      assert.equal(receiver.requests.length, 1, 'retry.enabled: false');
      assert.equal(spill.failures.length, 1);
    });
  });
});

/** The live exporter with a recording spill sink (no replayer sending too), against a real collector. */
async function withRecordingExport(
  protocol: 'http' | 'grpc',
  options: Partial<MetricExporterOptions>,
  body: (ctx: { receiver: OtlpReceiver; exporter: MetricExporter; accounting: ExportAccounting; spill: RecordingSpill }) => Promise<void>,
): Promise<void> {
  const receiver = await startOtlpReceiver();
  const accounting = new ExportAccounting();
  const spill = new RecordingSpill(accounting);
  const config = agentConfig('unused', protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl, protocol);
  const exporter = createMetricExporter({ transport: createTransport(config, 'recording-test'), accounting, logger: silentLogger(), timeoutMs: 3000, spill, ...options });
  try {
    await body({ receiver, exporter, accounting, spill });
    assert.equal(accounting.unaccounted(), 0);
  } finally {
    await exporter.shutdown();
    await receiver.close();
  }
}

describe('live exports honour the collector\'s requested wait', () => {
  for (const protocol of ['http', 'grpc'] as const) {
    it(`${protocol}: after "wait 30 s" the next exports go to the buffer without asking the collector again`, async () => {
      let now = 0;
      await withRecordingExport(protocol, { retry: RETRY, monotonic: () => now }, async ({ receiver, exporter, accounting, spill }) => {
        receiver.respondWith({ httpStatus: 503, grpcCode: grpcStatus.UNAVAILABLE, retryAfterSeconds: 30, message: 'overloaded' });
        for (let i = 0; i < 4; i += 1) {
          await exportOnce(exporter, await collectSample());
          now += 5000;
        }
        assert.equal(receiver.requests.length, 1, 'asked once, then waited as told');
        assert.equal(spill.failures.length, 4);
        assert.deepEqual(spill.failures.map((f) => f.retryAfterMs), [30_000, 25_000, 20_000, 15_000], 'the wait left travels with the spilled batch');
        now += 15_000;
        receiver.accept();
        await exportOnce(exporter, await collectSample());
        assert.equal(receiver.requests.length, 2, 'asked again once the wait is over');
        assert.equal(accounting.exportedLive, SAMPLE_POINTS);
      });
    });
  }
});
