// The buffer on a file system that is really full when the collector comes back: the delete
// that acknowledges a replayed batch fails (SQLITE_FULL), and neither that batch nor any other
// may be sent in a loop; batches that only the memory queue holds are replayed too, and none is
// dropped at stop while the collector takes data.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { pointKey } from './batches';
import { agentConfig, assertIdentity, capturedLogger, fillFileSystem, until, withSmallFileSystem } from './helpers';
import { Pipeline } from './pipeline';

const SERIES = 20;

function arrivals(receiver: OtlpReceiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of receiver.points()) counts.set(pointKey(p), (counts.get(pointKey(p)) ?? 0) + 1);
  return counts;
}

describe('spill buffer on a full file system', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  test('collector back while the disk is full: each batch is sent once, the memory queue is replayed, nothing dropped at stop', async (t) => {
    await withSmallFileSystem(t, 4, async (mountpoint) => {
      const logs = capturedLogger();
      const config = agentConfig(join(mountpoint, 'buffer'), receiver.httpUrl, 'http');
      config.buffer.memory_fallback_batches = 100;
      const pipeline = new Pipeline(config, logs.logger, SERIES);
      try {
        await receiver.down();
        for (let i = 0; i < 5; i += 1) await pipeline.exportCycle();
        assert.equal(pipeline.buffer.inMemoryFallback, false, 'the first batches went to the file');
        const filler = join(mountpoint, 'filler');
        fillFileSystem(filler);
        for (let i = 0; i < 5; i += 1) await pipeline.exportCycle();
        assert.equal(pipeline.buffer.inMemoryFallback, true, 'disk full: later batches in memory');
        assert.equal(logs.events('buffer.disk.failing').length, 1);
        assert.equal(pipeline.buffer.stats().batches, 10);

        await receiver.up();
        receiver.reset();
        pipeline.replayer.start();
        await receiver.waitFor((r) => pipeline.produced.every((k) => arrivals(r).has(k)), 10_000);
        // A resend loop would show here as hundreds of requests within a second.
        await new Promise((r) => setTimeout(r, 1000));
        const counts = arrivals(receiver);
        for (const key of pipeline.produced) assert.equal(counts.get(key), 1, `point ${key} arrived ${counts.get(key) ?? 0} times`);
        assert.ok(receiver.requests.length <= 10, `${receiver.requests.length} requests for 10 batches`);
        assert.equal(pipeline.accounting.replayed, 10 * SERIES, 'every batch counted replayed once');
        assert.equal(pipeline.buffer.stats().batches, 0, 'delivered batches left the backlog though their rows could not be deleted');
        assertIdentity(pipeline.accounting, 0);

        // Still full: new batches wait in memory; stop while the collector takes data sends them.
        await receiver.down();
        for (let i = 0; i < 3; i += 1) await pipeline.exportCycle();
        await receiver.up();
        await pipeline.exportCycle();
        assert.ok(pipeline.accounting.exportedLive > 0, 'a live export got through');
        await pipeline.close();
        await receiver.waitFor((r) => pipeline.produced.every((k) => arrivals(r).has(k)), 5000);
        assert.equal(pipeline.accounting.totalDropped(), 0, JSON.stringify(pipeline.accounting.snapshot()));
        assertIdentity(pipeline.accounting, 0);
      } finally {
        await pipeline.close();
      }
    });
  });
});
