import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE } from '../../internal/buffer/lock';
import { BufferRuntime } from '../../internal/buffer/runtime';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createTransport } from '../../internal/exporter/transport';
import { silentLogger } from '../../internal/log/logger';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { BatchFactory } from './batches';
import { agentConfig, assertIdentity, until, withTempDir } from './helpers';

test('the agent-side runtime reports its backlog for /health, drains it in the background and releases the directory on stop', async () => {
  const receiver = await startOtlpReceiver();
  const factory = new BatchFactory(10);
  try {
    await withTempDir('runtime', async (dir) => {
      const config = agentConfig(dir, receiver.httpUrl, 'http');
      const accounting = new ExportAccounting();
      const transport = createTransport(config, 'runtime-test');
      // Refuse everything until the backlog has been looked at.
      receiver.respondWith({ httpStatus: 503 });
      const runtime = BufferRuntime.start(config, transport, accounting, silentLogger());
      try {
        for (const batch of await factory.many(3)) {
          accounting.recordProduced(batch.points);
          runtime.buffer.accept(batch);
        }
        const status = runtime.status();
        assert.equal(status.backlog_batches, 3);
        assert.equal(status.backlog_points, 30);
        assert.equal(status.memory_fallback, false);
        assert.ok((status.backlog_bytes as number) > 0);
        receiver.accept();
        await receiver.waitFor((r) => r.points().length === 30, 10_000);
        const deadline = Date.now() + 5000;
        while (runtime.status().backlog_batches !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.equal(runtime.status().backlog_batches, 0);
        assertIdentity(accounting, 0);
      } finally {
        await runtime.stop();
        await transport.close();
      }
      assert.equal(existsSync(join(config.buffer.path, LOCK_FILE)), false, 'stop() released the directory');
    });
  } finally {
    await factory.close();
    await receiver.close();
  }
});

test('with nothing spilled the replayer runs no timer: upkeep waits for the first spill, which wakes it', async () => {
  const receiver = await startOtlpReceiver();
  const factory = new BatchFactory(10);
  try {
    await withTempDir('runtime-idle', async (dir) => {
      const config = agentConfig(dir, receiver.httpUrl, 'http');
      config.buffer.flush_interval = 20;
      const accounting = new ExportAccounting();
      const transport = createTransport(config, 'runtime-test');
      const runtime = BufferRuntime.start(config, transport, accounting, silentLogger());
      let passes = 0;
      const maintain = runtime.buffer.maintain.bind(runtime.buffer);
      runtime.buffer.maintain = () => {
        passes += 1;
        maintain();
      };
      try {
        await new Promise((r) => setTimeout(r, 400));
        assert.equal(passes, 0, `${passes} upkeep passes on an empty buffer at a 20 ms flush_interval`);
        const batch = await factory.next();
        accounting.recordProduced(batch.points);
        runtime.buffer.accept(batch);
        await receiver.waitFor((r) => r.points().length === 10, 5000);
        await until(() => runtime.status().backlog_batches === 0, 'backlog drained');
        const afterDrain = passes;
        await new Promise((r) => setTimeout(r, 400));
        assert.ok(passes - afterDrain <= 1, `${passes - afterDrain} upkeep passes after the buffer emptied`);
        assertIdentity(accounting, 0);
      } finally {
        await runtime.stop();
        await transport.close();
      }
    });
  } finally {
    await factory.close();
    await receiver.close();
  }
});
