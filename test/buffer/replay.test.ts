import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import type { AgentConfig, Protocol } from '../../internal/config/types';
import { silentLogger, type Logger } from '../../internal/log/logger';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { pointKey } from './batches';
import { agentConfig, assertIdentity, capturedLogger, until, withTempDir } from './helpers';
import { Pipeline } from './pipeline';

const PROTOCOLS: Protocol[] = ['grpc', 'http'];
const SERIES = 20;

function endpointOf(receiver: OtlpReceiver, protocol: Protocol): string {
  return protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl;
}

/** How many times each produced point arrived (accepted requests only). */
function arrivals(receiver: OtlpReceiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of receiver.points()) counts.set(pointKey(p), (counts.get(pointKey(p)) ?? 0) + 1);
  return counts;
}

/** Live exports fail with 503 (gRPC UNAVAILABLE) for `cycles` cycles, so each batch is spilled. */
async function spillCycles(pipeline: Pipeline, receiver: OtlpReceiver, cycles: number): Promise<void> {
  receiver.respondWith({ httpStatus: 503, message: 'collector overloaded', times: cycles });
  for (let i = 0; i < cycles; i += 1) await pipeline.exportCycle();
  receiver.accept();
}

/**
 * Runs `body` against a fresh pipeline (buffer in a temp directory) aimed at the receiver, and
 * leaves the receiver up and accepting for the next test.
 */
async function withPipeline(
  receiver: OtlpReceiver,
  protocol: Protocol,
  body: (pipeline: Pipeline, config: AgentConfig) => Promise<void>,
  options: { replayRate?: number; logger?: Logger } = {},
): Promise<void> {
  await withTempDir('replay', async (dir) => {
    receiver.reset();
    receiver.accept();
    const config = agentConfig(dir, endpointOf(receiver, protocol), protocol);
    config.buffer.replay_rate = options.replayRate ?? config.buffer.replay_rate;
    const pipeline = new Pipeline(config, options.logger ?? silentLogger(), SERIES);
    try {
      await body(pipeline, config);
    } finally {
      await pipeline.close();
      await receiver.up();
      receiver.accept();
    }
  });
}

function allArrived(receiver: OtlpReceiver, produced: readonly string[]): boolean {
  const got = arrivals(receiver);
  return produced.every((k) => (got.get(k) ?? 0) > 0);
}

for (const protocol of PROTOCOLS) {
  describe(`buffer replay over ${protocol}`, () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver();
    });
    after(() => receiver.close());

    test('collector down for many cycles, then up: every point arrives once, original timestamps, fresh data first, counters reconcile', async () => {
      // Slow enough that the backlog is still draining when the first live cycle goes out.
      await withPipeline(receiver, protocol, async (pipeline) => {
        pipeline.replayer.start();
        await receiver.down();
        for (let i = 0; i < 12; i += 1) await pipeline.exportCycle();
        assert.equal(pipeline.accounting.spilled, 12 * SERIES, 'every outage cycle spilled');
        assert.equal(pipeline.buffer.stats().batches, 12);
        assertIdentity(pipeline.accounting, 12 * SERIES);
        await receiver.up();
        // Cycles go on; the first that gets through live is fresh data ahead of the backlog.
        while (pipeline.accounting.exportedLive === 0) {
          await pipeline.exportCycle();
          if (pipeline.accounting.exportedLive === 0) await new Promise((r) => setTimeout(r, 100));
        }
        const liveKey = pipeline.produced[pipeline.produced.length - 1];
        await receiver.waitFor((r) => allArrived(r, pipeline.produced), 20_000);
        const counts = arrivals(receiver);
        for (const key of pipeline.produced) assert.equal(counts.get(key), 1, `point ${key} arrived ${counts.get(key) ?? 0} times`);
        assert.equal(counts.size, pipeline.produced.length, 'nothing arrived that was not produced');
        // Keys carry start and end timestamps: equal keys mean the original timestamps arrived.
        const order = receiver.points().map(pointKey);
        assert.ok(order.indexOf(liveKey) < order.indexOf(pipeline.produced[12 * SERIES - 1]), 'the live batch arrived before the end of the backlog');
        await until(() => pipeline.buffer.stats().batches === 0, 'backlog drained');
        assert.equal(pipeline.accounting.replayed, pipeline.accounting.spilled);
        assert.equal(pipeline.accounting.exportedLive, SERIES);
        assert.equal(pipeline.accounting.produced, pipeline.produced.length);
        assertIdentity(pipeline.accounting, 0);
      }, { replayRate: SERIES * 4 });
    });

    test('a flapping collector: nothing lost, duplicates only as at-least-once allows, counters reconcile', async () => {
      await withPipeline(receiver, protocol, async (pipeline) => {
        pipeline.replayer.start();
        for (let i = 0; i < 24; i += 1) {
          if (i % 4 === 0) await (receiver.isUp ? receiver.down() : receiver.up());
          await pipeline.exportCycle();
          await new Promise((r) => setTimeout(r, 50));
        }
        await receiver.up();
        await receiver.waitFor((r) => allArrived(r, pipeline.produced), 20_000);
        await until(() => pipeline.buffer.stats().batches === 0, 'backlog drained');
        assert.ok(pipeline.accounting.spilled > 0, 'some cycles fell in an outage');
        assert.ok(pipeline.accounting.exportedLive > 0, 'some cycles went live');
        const delivered = pipeline.accounting.exportedLive + pipeline.accounting.replayed;
        assert.equal(delivered, pipeline.produced.length, 'each point acknowledged exactly once by the agent');
        assert.ok(receiver.points().length >= delivered, 'the receiver saw at least every acknowledged point');
        assertIdentity(pipeline.accounting, 0);
      });
    });

    test('503 and 429 with Retry-After back the replayer off for at least that long; the batch stays until accepted', async () => {
      await withPipeline(receiver, protocol, async (pipeline) => {
        await spillCycles(pipeline, receiver, 1);
        for (const [httpStatus, reason] of [[503, 'unavailable'], [429, 'throttled']] as const) {
          receiver.respondWith({ httpStatus, retryAfterSeconds: 3, message: 'slow down' });
          const outcome = await pipeline.replayer.step();
          assert.equal(outcome.kind, 'failed');
          if (outcome.kind !== 'failed') return;
          assert.equal(outcome.result.reason, reason);
          assert.ok(outcome.waitMs >= 3000, `waits ${outcome.waitMs} ms, Retry-After said 3 s`);
          assert.equal(pipeline.buffer.stats().batches, 1, 'kept after a retryable failure');
        }
        receiver.accept();
        assert.equal((await pipeline.replayer.step()).kind, 'delivered');
        assert.equal(pipeline.buffer.stats().batches, 0);
        assertIdentity(pipeline.accounting, 0);
      });
    });

    test('UNAVAILABLE and RESOURCE_EXHAUSTED are retried with growing backoff, a hang past the timeout too', async () => {
      await withPipeline(receiver, protocol, async (pipeline, config) => {
        await spillCycles(pipeline, receiver, 1);
        const waits: number[] = [];
        for (const grpcCode of [grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE]) {
          receiver.respondWith({ grpcCode, retryAfterSeconds: 0 });
          const outcome = await pipeline.replayer.step();
          assert.equal(outcome.kind, 'failed');
          if (outcome.kind === 'failed') waits.push(outcome.waitMs);
        }
        // Equal jitter: attempt n waits within [step/2, step], step = initial * 2^n capped at max.
        const { initial_interval, max_interval } = config.telemetryflow.retry;
        waits.forEach((w, n) => {
          const step = Math.min(max_interval, initial_interval * 2 ** n);
          assert.ok(w >= step / 2 && w <= step, `wait ${n} = ${w} outside [${step / 2}, ${step}]`);
      });
      receiver.hang();
      const hung = await pipeline.replayer.step();
      assert.equal(hung.kind, 'failed');
      if (hung.kind === 'failed') assert.equal(hung.result.reason, 'timeout');
      assert.equal(pipeline.buffer.stats().batches, 1, 'a timed-out batch stays: the collector never acknowledged it');
      receiver.accept();
      assert.equal((await pipeline.replayer.step()).kind, 'delivered');
      assertIdentity(pipeline.accounting, 0);
      });
    });

    test('a 400 drops the batch, counted as rejected and logged once with the collector message; a good batch sent with it still arrives', async () => {
      const logs = capturedLogger();
      await withPipeline(receiver, protocol, async (pipeline) => {
        await spillCycles(pipeline, receiver, 4);
        // One 400 for the four-batch request: the replayer retries batch by batch, and they pass.
        receiver.respondWith({ httpStatus: 400, message: 'metric name too long', times: 1 });
        const first = await pipeline.replayer.step();
        assert.equal(first.kind, 'delivered');
        assert.equal(pipeline.accounting.totalDropped(), 0, 'one bad answer does not condemn four batches');
        while ((await pipeline.replayer.step()).kind === 'delivered');
        assert.equal(pipeline.buffer.stats().batches, 0);
        // Now every request is refused as invalid: each batch is dropped once, never retried.
        await spillCycles(pipeline, receiver, 3);
        receiver.respondWith({ httpStatus: 400, message: 'metric name too long' });
        const outcomes = [];
        for (let step = await pipeline.replayer.step(); step.kind !== 'empty'; step = await pipeline.replayer.step()) outcomes.push(step);
        assert.deepEqual(outcomes.map((o) => o.kind), ['rejected', 'rejected', 'rejected']);
        assert.equal(pipeline.accounting.dropped.get('rejected'), 3 * SERIES);
        assert.deepEqual(pipeline.buffer.quarantineStats().batches, 3, 'refused batches are kept in the quarantine table');
        const logged = logs.events('buffer.replay_rejected');
        assert.equal(logged.length, 1, 'logged once');
        assert.match(String(logged[0].collector_message), /metric name too long/);
        assertIdentity(pipeline.accounting, 0);
      }, { logger: logs.logger });
    });
  });
}
