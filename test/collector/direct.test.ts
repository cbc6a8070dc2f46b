import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { DirectMetrics, DirectProducer } from '../../internal/collector/direct';
import { ValueType } from '@opentelemetry/api';
import { int, ON, type Metrics } from '../../internal/collector/declaration';

const defs = {
  time: { semconv: 'test.cpu.time', hostmetrics: 'test.cpu.time', kind: 'counter', unit: 's', value: 'double', description: 'CPU time.', default: ON },
  usage: { semconv: 'test.memory.usage', hostmetrics: 'test.memory.usage', kind: 'updowncounter', unit: 'By', value: 'double', description: 'Memory.', default: ON },
  level: { semconv: 'test.level', kind: 'gauge', unit: '1', value: 'double', description: 'Only under semconv.', default: ON },
} as const satisfies Metrics;

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
const secondsOf = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

function byName(data: MetricData[]): Map<string, MetricData> {
  return new Map(data.map((m) => [m.descriptor.name, m]));
}

test('direct metrics: points as observed, with their kind, unit and start time', () => {
  const metrics = new DirectMetrics('semconv', defs, () => true);
  metrics.begin(T0);
  metrics.observe(undefined, 'time', 12.5, { 'cpu.mode': 'user' }, secondsOf(T0 - 60_000));
  metrics.observe(undefined, 'usage', 4096);
  metrics.observe(undefined, 'level', Number.NaN);
  const data = byName(metrics.end(true));

  const time = data.get('test.cpu.time')!;
  assert.equal(time.dataPointType, DataPointType.SUM);
  assert.equal(time.dataPointType === DataPointType.SUM && time.isMonotonic, true);
  assert.deepEqual(time.descriptor, { name: 'test.cpu.time', description: 'CPU time.', unit: 's', valueType: time.descriptor.valueType });
  assert.deepEqual(time.dataPoints.map((p) => [p.attributes, p.value, p.startTime, p.endTime]), [
    [{ 'cpu.mode': 'user' }, 12.5, secondsOf(T0 - 60_000), secondsOf(T0)],
  ]);
  const usage = data.get('test.memory.usage')!;
  assert.equal(usage.dataPointType === DataPointType.SUM && usage.isMonotonic, false);
  assert.deepEqual(usage.dataPoints[0].startTime, secondsOf(T0), 'without a start time, the collection\'s');
  assert.equal(data.has('test.level'), false, 'a value that is not finite is not a point');
});

test('direct metrics: a failed or skipped collection repeats the last good points with a new end time', () => {
  const metrics = new DirectMetrics('semconv', defs, () => true);
  metrics.begin(T0);
  metrics.observe(undefined, 'usage', 1);
  metrics.end(true);

  metrics.begin(T0 + 15_000);
  metrics.observe(undefined, 'usage', 2); // observed, then the collection failed
  const failed = byName(metrics.end(false)).get('test.memory.usage')!;
  assert.deepEqual(failed.dataPoints.map((p) => [p.value, p.endTime]), [[1, secondsOf(T0 + 15_000)]]);

  const skipped = byName(metrics.repeat(T0 + 30_000)).get('test.memory.usage')!;
  assert.deepEqual(skipped.dataPoints.map((p) => [p.value, p.endTime]), [[1, secondsOf(T0 + 30_000)]]);

  metrics.begin(T0 + 45_000);
  assert.deepEqual(metrics.end(true), [], 'a good collection that observed nothing exports nothing');
});

test('direct metrics: the hostmetrics profile renames, and leaves out what it does not name', () => {
  const metrics = new DirectMetrics('hostmetrics', defs, () => true);
  assert.equal(metrics.has('level'), false);
  metrics.begin(T0);
  metrics.observe(undefined, 'time', 1, { 'cpu.mode': 'iowait' });
  metrics.observe(undefined, 'level', 1);
  const data = metrics.end(true);
  assert.deepEqual(data.map((m) => m.descriptor.name), ['test.cpu.time']);
  assert.deepEqual(data[0].dataPoints[0].attributes, { state: 'wait' });
});

test('direct metrics: unit and value type as the profile declares them, integers as INT', () => {
  const split = {
    ops: { semconv: 'test.ops', hostmetrics: 'test.ops', kind: 'counter', unit: { semconv: '{operation}', hostmetrics: '{operations}' }, value: { semconv: 'int', hostmetrics: 'double' }, description: 'Operations.', default: ON },
  } as const satisfies Metrics;
  for (const [profile, unit, valueType] of [['semconv', '{operation}', ValueType.INT], ['hostmetrics', '{operations}', ValueType.DOUBLE]] as const) {
    const metrics = new DirectMetrics(profile, split, () => true);
    metrics.begin(T0);
    metrics.observe(undefined, 'ops', int(7));
    const [data] = metrics.end(true);
    assert.equal(data.descriptor.unit, unit, profile);
    assert.equal(data.descriptor.valueType, valueType, profile);
  }
});

test('direct producer: every source in one scope; a removed source is no longer collected', async () => {
  const producer = new DirectProducer();
  const metrics = new DirectMetrics('semconv', defs, () => true);
  const remove = producer.add(async () => {
    metrics.begin(T0);
    metrics.observe(undefined, 'usage', 7);
    return metrics.end(true);
  });
  const { resourceMetrics, errors } = await producer.collect();
  assert.deepEqual(errors, []);
  assert.equal(resourceMetrics.scopeMetrics.length, 1);
  assert.equal(resourceMetrics.scopeMetrics[0].scope.name, 'tfo-agent');
  assert.deepEqual(resourceMetrics.scopeMetrics[0].metrics.map((m) => m.dataPoints.map((p) => p.value)), [[7]]);
  remove();
  assert.deepEqual((await producer.collect()).resourceMetrics.scopeMetrics, []);
});
