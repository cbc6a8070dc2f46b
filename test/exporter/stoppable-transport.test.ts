// A stopping pipeline's sends against a collector that never answers: cut short as a retryable
// timeout, in flight and new alike, while a collector that answers is not affected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { Protocol } from '../../internal/config/types';
import { stoppableTransport } from '../../internal/exporter/stoppable-transport';
import { createTransport } from '../../internal/exporter/transport';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { collectSample, configFor } from './fixtures';

// Far longer than the test may take: only the cut can end these sends.
const EXPORT_TIMEOUT_MS = 60_000;
let body: Uint8Array;

before(async () => {
  body = ProtobufMetricsSerializer.serializeRequest(await collectSample())!;
});

for (const protocol of ['grpc', 'http'] as Protocol[]) {
  describe(`stoppable ${protocol} transport`, () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver();
    });
    after(() => receiver.close());

    it('sends as usual until asked to stop', async () => {
      receiver.accept();
      const transport = stoppableTransport(createTransport(configFor(receiver, protocol), 'agent-under-test'));
      try {
        assert.deepEqual(await transport.send(body, EXPORT_TIMEOUT_MS), { outcome: 'ok' });
      } finally {
        await transport.close();
      }
    });

    it('ends a hanging send and every later one as a retryable timeout once the budget is spent', async () => {
      receiver.hang();
      const transport = stoppableTransport(createTransport(configFor(receiver, protocol), 'agent-under-test'));
      try {
        const inFlight = transport.send(body, EXPORT_TIMEOUT_MS);
        await receiver.waitFor((r) => r.requests.length >= 1, 10_000);
        transport.stopWithin(200);
        const cut = await inFlight;
        assert.equal(cut.outcome, 'retryable');
        assert.equal(cut.outcome === 'retryable' ? cut.reason : undefined, 'timeout');
        assert.match(cut.outcome === 'retryable' ? cut.message : '', /agent\.shutdown_timeout/);
        assert.equal((await transport.send(body, EXPORT_TIMEOUT_MS)).outcome, 'retryable', 'a send after the cut does not wait');
      } finally {
        receiver.accept();
        await transport.close();
        receiver.reset();
      }
    });
  });
}
