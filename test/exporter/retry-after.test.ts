// A collector asking the agent to wait, however long, is asked again only after a bounded wait:
// never a delay that overflows Node's timers (which then fire after 1 ms, a tight loop).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { BufferRuntime } from '../../internal/buffer/runtime';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createTransport } from '../../internal/exporter/transport';
import { silentLogger } from '../../internal/log/logger';
import { startOtlpReceiver, type ReceiverResponse } from '../support/otlp-receiver';
import { BatchFactory } from '../buffer/batches';
import { agentConfig, withTempDir } from '../buffer/helpers';

const WATCH_MS = 3000;

const cases: Array<{ name: string; protocol: 'http' | 'grpc'; answer: ReceiverResponse }> = [
  { name: 'HTTP 503 with retry-after: 3000000', protocol: 'http', answer: { httpStatus: 503, retryAfter: '3000000' } },
  { name: 'HTTP 503 with an HTTP date far ahead', protocol: 'http', answer: { httpStatus: 503, retryAfter: 'Fri, 31 Dec 9999 23:59:59 GMT' } },
  { name: 'gRPC UNAVAILABLE with a RetryInfo of 3000000 s', protocol: 'grpc', answer: { grpcCode: grpcStatus.UNAVAILABLE, retryAfterSeconds: 3_000_000 } },
];

describe('a collector asking for a huge wait', () => {
  for (const { name, protocol, answer } of cases) {
    it(`${name}: the backlog is offered a bounded number of times, no timer overflows`, async () => {
      const receiver = await startOtlpReceiver();
      const factory = new BatchFactory(10);
      const warnings: string[] = [];
      const onWarning = (warning: Error): void => void warnings.push(warning.name);
      process.on('warning', onWarning);
      try {
        await withTempDir('retry-after', async (dir) => {
          const config = agentConfig(dir, protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl, protocol);
          const accounting = new ExportAccounting();
          const transport = createTransport(config, 'retry-after-test');
          receiver.respondWith(answer);
          const runtime = BufferRuntime.start(config, transport, accounting, silentLogger());
          try {
            for (const batch of await factory.many(3)) {
              accounting.recordProduced(batch.points);
              runtime.buffer.accept(batch);
            }
            await receiver.waitFor((r) => r.requests.length >= 1, 5000);
            await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
            // One request, then the (capped) wait; the old code sent thousands.
            assert.ok(receiver.requests.length <= 2, `${receiver.requests.length} requests in ${WATCH_MS} ms`);
            assert.equal(runtime.status().backlog_batches, 3, 'nothing lost while waiting');
          } finally {
            await runtime.stop();
            await transport.close();
          }
        });
      } finally {
        process.off('warning', onWarning);
        await factory.close();
        await receiver.close();
      }
      assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
    });
  }
});
