import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { CollectdMetrics, STALE_INTERVALS, type ConvertDrop } from '../../internal/receiver/collectd/convert';
import type { ValueList } from '../../internal/receiver/collectd/decode';
import type { ValueKind } from '../../internal/receiver/collectd/protocol';
import { parseTypesDb } from '../../internal/receiver/collectd/types-db';

const TYPES = parseTypesDb([
  'if_octets rx:DERIVE:0:U, tx:DERIVE:0:U',
  'counter value:COUNTER:U:U',
  'absolute value:ABSOLUTE:0:U',
  'gauge value:GAUGE:U:U',
].join('\n'));
const T0 = 1_700_000_000;
const at = (s: number): HrTime => [T0 + s, 0];

function vl(type: string, kinds: ValueKind[], values: number[], second: number, host = 'h1', typeInstance = ''): ValueList {
  return { host, plugin: 'p', pluginInstance: '', type, typeInstance, time: at(second), intervalMs: 10_000, kinds, values };
}

function metrics(cm: CollectdMetrics, nowMs: number): Map<string, MetricData> {
  const out = new Map<string, MetricData>();
  for (const rm of cm.drain(nowMs)) {
    for (const m of rm.scopeMetrics[0].metrics) out.set(`${String(rm.resource.attributes['host.name'])}/${m.descriptor.name}`, m);
  }
  return out;
}

describe('collectd value lists as OpenTelemetry points', () => {
  it('a counter that goes down (sender restart or wrap) starts a new series where the last point ended', () => {
    const cm = new CollectdMetrics(TYPES, 100, () => assert.fail('nothing dropped'));
    cm.add(vl('counter', ['counter'], [100], 0), 0);
    cm.add(vl('counter', ['counter'], [150], 10), 0);
    cm.add(vl('counter', ['counter'], [5], 20), 0); // restarted
    cm.add(vl('counter', ['counter'], [20], 30), 0);
    const m = metrics(cm, 0).get('h1/counter');
    assert.ok(m !== undefined && m.dataPointType === DataPointType.SUM);
    assert.equal(m.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    assert.equal(m.isMonotonic, true);
    assert.deepEqual(m.dataPoints.map((p) => [p.startTime, p.endTime, p.value]), [
      [at(0), at(0), 100], [at(0), at(10), 150], [at(10), at(20), 5], [at(10), at(30), 20],
    ]);
  });

  it('DERIVE with min 0 is a monotonic cumulative sum per data source; every value list is a point with its own time', () => {
    const cm = new CollectdMetrics(TYPES, 100, () => assert.fail('nothing dropped'));
    cm.add(vl('if_octets', ['derive', 'derive'], [10, 20], 0), 0);
    cm.add(vl('if_octets', ['derive', 'derive'], [11, 25], 1), 0);
    const out = metrics(cm, 0);
    assert.deepEqual([...out.keys()].sort(), ['h1/if_octets.rx', 'h1/if_octets.tx']);
    const tx = out.get('h1/if_octets.tx');
    assert.ok(tx !== undefined && tx.dataPointType === DataPointType.SUM && tx.isMonotonic);
    assert.deepEqual(tx.dataPoints.map((p) => [p.endTime, p.value, p.attributes.dsname]), [[at(0), 20, 'tx'], [at(1), 25, 'tx']]);
  });

  it('ABSOLUTE is a delta sum from the previous value list; GAUGE a gauge; NaN gauge no point', () => {
    const cm = new CollectdMetrics(TYPES, 100, () => assert.fail('nothing dropped'));
    cm.add(vl('absolute', ['absolute'], [3], 10), 0);
    cm.add(vl('absolute', ['absolute'], [4], 20), 0);
    cm.add(vl('gauge', ['gauge'], [1.5], 10), 0);
    cm.add(vl('gauge', ['gauge'], [Number.NaN], 20), 0);
    const out = metrics(cm, 0);
    const abs = out.get('h1/absolute');
    assert.ok(abs !== undefined && abs.dataPointType === DataPointType.SUM);
    assert.equal(abs.aggregationTemporality, AggregationTemporality.DELTA);
    assert.deepEqual(abs.dataPoints.map((p) => [p.startTime, p.endTime, p.value]), [[at(0), at(10), 3], [at(10), at(20), 4]]);
    const gauge = out.get('h1/gauge');
    assert.ok(gauge !== undefined && gauge.dataPointType === DataPointType.GAUGE);
    assert.deepEqual(gauge.dataPoints.map((p) => p.value), [1.5]);
  });

  it('one resource per sending host; max_series bounds the series kept and counts the excess', () => {
    const drops: ConvertDrop[] = [];
    const cm = new CollectdMetrics(TYPES, 2, (r) => drops.push(r));
    cm.add(vl('gauge', ['gauge'], [1], 0, 'a'), 0);
    cm.add(vl('gauge', ['gauge'], [2], 0, 'b'), 0);
    cm.add(vl('gauge', ['gauge'], [3], 0, 'c'), 0);
    cm.add(vl('gauge', ['gauge', 'gauge'], [1, 2], 0, 'a'), 0);
    assert.deepEqual(drops, ['max_series', 'values_mismatch']);
    assert.deepEqual([...metrics(cm, 0).keys()].sort(), ['a/gauge', 'b/gauge']);
  });

  it(`a series that stops arriving is forgotten after ${STALE_INTERVALS} of its intervals, freeing its place`, () => {
    const drops: ConvertDrop[] = [];
    const cm = new CollectdMetrics(TYPES, 1, (r) => drops.push(r));
    cm.add(vl('gauge', ['gauge'], [1], 0, 'a'), 0);
    metrics(cm, STALE_INTERVALS * 10_000);
    assert.equal(cm.seriesCount, 1);
    cm.add(vl('gauge', ['gauge'], [1], 30, 'b'), STALE_INTERVALS * 10_000);
    assert.deepEqual(drops, ['max_series']);
    metrics(cm, STALE_INTERVALS * 10_000 + 1);
    assert.equal(cm.seriesCount, 0);
    cm.add(vl('gauge', ['gauge'], [7], 31, 'b'), STALE_INTERVALS * 10_000 + 1);
    assert.deepEqual([...metrics(cm, STALE_INTERVALS * 10_000 + 1).keys()], ['b/gauge']);
  });
});
