import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { selfMetricsSource, SELF_METRICS } from '../../internal/agent/self-metrics';
import { SpillBuffer } from '../../internal/buffer/buffer';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { silentLogger } from '../../internal/log/logger';
import { BatchFactory } from './batches';
import { bufferConfig, tempDir } from './helpers';

/** metric name -> (attribute `reason` or '') -> value */
function valuesOf(metrics: MetricData[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const metric of metrics) {
    const byReason = new Map<string, number>();
    for (const point of metric.dataPoints) byReason.set(String(point.attributes.reason ?? ''), point.value as number);
    out.set(metric.descriptor.name, byReason);
  }
  return out;
}

test('self-metrics report the backlog and every point by destination; the identity holds from the metrics alone', async () => {
  const { dir, cleanup } = tempDir('self');
  const factory = new BatchFactory(10);
  try {
    let now = Date.now();
    const accounting = new ExportAccounting();
    const buffer = SpillBuffer.open({ config: bufferConfig(dir, { max_age: 60_000 }), accounting, logger: silentLogger(), now: () => now });
    const collect = selfMetricsSource({ accounting, backlog: () => buffer.stats(), now: () => now });
    const startedAt = now;
    // Nothing dropped yet: no dropped metric, and every other one with its single point.
    const first = await collect();
    assert.equal(first.length, 10);
    assert.ok(!first.some((m) => m.descriptor.name === SELF_METRICS.dropped));
    // 3 live, 6 spilled: 2 replayed, 1 rejected, 1 aged out, 2 still waiting.
    accounting.recordProduced(30);
    accounting.recordExportedLive(30);
    const batches = await factory.many(6, (i) => now - 50_000 + i * 10_000);
    for (const batch of batches) {
      accounting.recordProduced(batch.points);
      buffer.accept(batch);
    }
    buffer.acknowledge(buffer.peek(2, Infinity, Infinity));
    buffer.reject(buffer.peek(1, Infinity, Infinity), 'HTTP 400: invalid metric');
    now += 45_000; // the fourth batch is now 65 s old, over max_age; the fifth 55 s
    buffer.maintain();

    const collected = await collect();
    const values = valuesOf(collected);
    const v = (name: string, reason = '') => values.get(name)?.get(reason) ?? 0;
    assert.equal(v(SELF_METRICS.produced), 90);
    assert.equal(v(SELF_METRICS.exported), 30);
    assert.equal(v(SELF_METRICS.spilled), 60);
    assert.equal(v(SELF_METRICS.replayed), 20);
    assert.equal(v(SELF_METRICS.dropped, 'rejected'), 10);
    assert.equal(v(SELF_METRICS.dropped, 'evicted_age'), 10);
    assert.equal(v(SELF_METRICS.backlogBatches), 2);
    assert.equal(v(SELF_METRICS.backlogPoints), 20);
    assert.ok(v(SELF_METRICS.backlogBytes) > 0);
    assert.equal(v(SELF_METRICS.backlogOldestAge), (now - batches[4].createdAt) / 1000);
    const dropped = [...(values.get(SELF_METRICS.dropped)?.values() ?? [])].reduce((a, b) => a + b, 0);
    assert.equal(
      v(SELF_METRICS.produced) + v(SELF_METRICS.restored),
      v(SELF_METRICS.exported) + v(SELF_METRICS.replayed) + v(SELF_METRICS.backlogPoints) + dropped + v(SELF_METRICS.leftInBuffer),
    );
    // Counters are cumulative from when the source was made; gauges are gauges.
    for (const metric of collected) {
      const counter = metric.descriptor.name.startsWith('tfo_agent.points.');
      assert.equal(metric.dataPointType, counter ? DataPointType.SUM : DataPointType.GAUGE, metric.descriptor.name);
      for (const point of metric.dataPoints) {
        assert.deepEqual(point.startTime, [Math.floor(startedAt / 1000), (startedAt % 1000) * 1e6]);
        assert.deepEqual(point.endTime, [Math.floor(now / 1000), (now % 1000) * 1e6]);
      }
    }
    buffer.close();
    assert.equal(valuesOf(await collect()).get(SELF_METRICS.leftInBuffer)?.get(''), 20);
  } finally {
    await factory.close();
    cleanup();
  }
});
