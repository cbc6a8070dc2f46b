// The exporter's failure paths against a real collector on loopback: nothing floods it, nothing
// loops. A collector asking the agent to wait, however long, is asked again only after a bounded
// wait (never a delay that overflows Node's timers, which then fire after 1 ms); a batch it
// refuses for what it is leaves the backlog instead of being retried forever.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { BufferRuntime } from '../../internal/buffer/runtime';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createTransport } from '../../internal/exporter/transport';
import { silentLogger } from '../../internal/log/logger';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverResponse } from '../support/otlp-receiver';
import { BatchFactory } from '../buffer/batches';
import { agentConfig, assertIdentity, until, withTempDir } from '../buffer/helpers';

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
