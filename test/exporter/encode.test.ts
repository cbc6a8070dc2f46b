// The agent's OTLP encoder must write exactly the bytes the OpenTelemetry transformer writes, for
// every collection the agent makes, and hand what it does not encode to the transformer.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType, type Attributes } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { MetricsEncoder } from '../../internal/exporter/encode';
import { silentLogger } from '../../internal/log/logger';
import { collectEveryFamily, testConfig } from '../support/collect';

const transformer = (metrics: ResourceMetrics): Buffer => Buffer.from(ProtobufMetricsSerializer.serializeRequest(metrics)!);

/** Counts the requests the encoder hands to the transformer. */
function watchFallbacks(): { count: () => number; restore: () => void } {
  const original = ProtobufMetricsSerializer.serializeRequest;
  let calls = 0;
  ProtobufMetricsSerializer.serializeRequest = (metrics) => {
    calls += 1;
    return original(metrics);
  };
  return { count: () => calls, restore: () => { ProtobufMetricsSerializer.serializeRequest = original; } };
}

const T: [number, number] = [1_795_000_000, 123_456_789];

function sum(name: string, points: Array<[Attributes, number]>, extra: Partial<MetricData> = {}): MetricData {
  return {
    descriptor: { name, description: `The ${name}.`, unit: 'By', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map(([attributes, value]) => ({ startTime: [T[0] - 3600, 5], endTime: T, attributes, value })),
    ...extra,
  } as MetricData;
}

function request(metrics: MetricData[], attributes: Attributes = { 'host.name': 'node-1', 'service.name': 'tfo-agent' }): ResourceMetrics {
  return { resource: resourceFromAttributes(attributes), scopeMetrics: [{ scope: { name: 'tfo-agent', version: '0.1.0' }, metrics }] };
}

describe('metrics encoder', () => {
  let fallbacks: ReturnType<typeof watchFallbacks>;
  beforeEach(() => { fallbacks = watchFallbacks(); });
  afterEach(() => fallbacks.restore());

  it('writes the transformer\'s bytes for every family this machine reports, processes included, cycle after cycle', async () => {
    const config = testConfig({ collectors: { process: { enabled: true, processes: ['node'], interval: 0 } } });
    const machine = await collectEveryFamily(config, 'semconv');
    const encoder = new MetricsEncoder();
    try {
      for (let cycle = 0; cycle < 3; cycle++) {
        const resourceMetrics = await machine.collect();
        const names = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
        assert.ok(names.includes('process.cpu.time') && names.includes('system.cpu.time'), names.join(', '));
        const ours = Buffer.from(encoder.encode(resourceMetrics)!);
        fallbacks.restore();
        assert.ok(ours.equals(transformer(resourceMetrics)), `cycle ${cycle}: bytes differ`);
        fallbacks = watchFallbacks();
      }
      assert.equal(fallbacks.count(), 0, 'encoded without the transformer');
    } finally {
      await machine.shutdown();
    }
  });

  it('writes long and non-ASCII strings, every attribute type, gauges, deltas and odd values as the transformer does', () => {
    const long = 'x'.repeat(200);
    const huge = 'java -cp '.repeat(3000);
    const metrics = request([
      sum('a.sum', [
        [{ 'process.command_line': huge, 'process.pid': 4_294_967_296, ratio: 0.25, on: true, off: false }, 1.5],
        [{ unit: 'µs', emoji: '🚀 ok', empty: '' }, 0],
        [{}, -3],
        [{ n: 0 }, Number.NaN],
      ]),
      sum('a.delta', [[{ k: long }, 7]], { aggregationTemporality: AggregationTemporality.DELTA, isMonotonic: false } as Partial<MetricData>),
      { ...sum('a.gauge', [[{ k: 'v' }, Number.POSITIVE_INFINITY]]), dataPointType: DataPointType.GAUGE, descriptor: { name: 'a.gauge', description: '', unit: '', valueType: ValueType.DOUBLE } } as MetricData,
      sum('a.empty', []),
      // Integer metrics: as_int, beyond 2^32, at 2^53 - 1, zero and negative.
      { ...sum('a.int', [[{ k: 'big' }, 2 ** 40 + 7], [{ k: 'max' }, Number.MAX_SAFE_INTEGER], [{ k: 'zero' }, 0], [{ k: 'neg' }, -(2 ** 33) - 1]]), descriptor: { name: 'a.int', description: '', unit: 'By', valueType: ValueType.INT } } as MetricData,
    ], { 'host.name': 'nœud-1', 'os.description': long });
    const ours = Buffer.from(new MetricsEncoder().encode(metrics)!);
    assert.equal(fallbacks.count(), 0);
    fallbacks.restore();
    assert.ok(ours.equals(transformer(metrics)));
  });

  it('hands what it does not encode to the transformer: histograms, array and negative attributes', () => {
    const cases: Array<[string, ResourceMetrics]> = [
      ['negative integer attribute', request([sum('n', [[{ offset: -5 }, 1]])])],
      ['array attribute', request([sum('r', [[{ list: ['a', 'b'] }, 1]])])],
      ['histogram', request([{
        descriptor: { name: 'h', description: '', unit: 'ms', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [{ startTime: T, endTime: T, attributes: {}, value: { buckets: { boundaries: [1], counts: [1, 0] }, sum: 0.5, count: 1, min: 0.5, max: 0.5 } }],
      } as MetricData])],
    ];
    const encoder = new MetricsEncoder();
    for (const [what, metrics] of cases) {
      const before = fallbacks.count();
      const ours = Buffer.from(encoder.encode(metrics)!);
      assert.equal(fallbacks.count(), before + 1, `${what}: through the transformer`);
      assert.ok(ours.equals(transformer(metrics)), what);
    }
    assert.equal(encoder.faults, 0, 'what it does not encode is no fault');
  });

  it('writes the transformer\'s bytes for 400 random requests: every kind, attribute type, empty and huge values', () => {
    let seed = 0x5eed18;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <V>(values: V[]): V => values[Math.floor(random() * values.length)];
    const huge = 'x'.repeat(100_000);
    const text = (): string => pick(['', 'a', 'nœud-☃-𝄞', huge, `k${Math.floor(random() * 1e6)}`, '\u0000\n"']);
    const attributeValue = (): Attributes[string] => pick<() => Attributes[string]>([
      text, () => random() < 0.5, () => Math.floor(random() * 2 ** 40), () => 0, () => random() * 1e9 - 5e8,
      () => Number.MAX_SAFE_INTEGER, () => -Math.floor(random() * 1000) - 1, () => [text(), text()], () => Number.NaN,
    ])();
    const attributes = (): Attributes => {
      const out: Attributes = {};
      for (let i = Math.floor(random() * 6); i > 0; i -= 1) out[pick(['', 'k', huge.slice(0, 300), text()])] = attributeValue();
      return out;
    };
    const intValue = (): number => pick([0, 1, -1, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, -(2 ** 33), Math.floor(random() * 1e6)]);
    const doubleValue = (): number => pick([0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, random() * 1e12]);
    const metric = (index: number): MetricData => {
      const valueType = random() < 0.5 ? ValueType.INT : ValueType.DOUBLE;
      const descriptor = { name: index % 7 === 0 ? huge.slice(0, 2000) : `m.${index}`, description: pick(['', text()]), unit: pick(['', 'By', '{process}']), valueType };
      const points = Array.from({ length: Math.floor(random() * 6) }, () => ({
        startTime: [T[0] - Math.floor(random() * 1e6), Math.floor(random() * 1e9)] as [number, number], endTime: T, attributes: attributes(),
        value: valueType === ValueType.INT ? intValue() : doubleValue(),
      }));
      const kind = pick(['sum', 'gauge', 'histogram']);
      if (kind === 'histogram') {
        return {
          descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM,
          dataPoints: points.map((p) => ({ ...p, value: { buckets: { boundaries: [1, 10], counts: [1, 2, 0] }, sum: 12, count: 3, min: 0.5, max: 9 } })),
        } as MetricData;
      }
      return {
        descriptor, dataPointType: kind === 'sum' ? DataPointType.SUM : DataPointType.GAUGE, isMonotonic: random() < 0.5,
        aggregationTemporality: random() < 0.5 ? AggregationTemporality.CUMULATIVE : AggregationTemporality.DELTA, dataPoints: points,
      } as MetricData;
    };
    const encoder = new MetricsEncoder();
    for (let i = 0; i < 400; i += 1) {
      const metrics = request(Array.from({ length: Math.floor(random() * 4) }, (_, m) => metric(i * 4 + m)), attributes());
      const ours = Buffer.from(encoder.encode(metrics)!);
      assert.ok(ours.equals(transformer(metrics)), `request ${i} differs from the transformer's bytes`);
    }
    assert.equal(encoder.faults, 0);
  });

  it('counts a fault of its own and logs it once, and the request still goes out in the transformer\'s bytes', () => {
    const logged: Array<{ level: string; fields: Record<string, unknown>; msg?: string }> = [];
    const record = (level: string) => (fields: Record<string, unknown>, msg?: string) => { logged.push({ level, fields, msg }); };
    const logger = Object.assign(Object.create(silentLogger()) as ReturnType<typeof silentLogger>, { error: record('error'), warn: record('warn') });
    const encoder = new MetricsEncoder(logger);
    // A bug of the fast path, as a TypeError from inside it would be.
    (encoder as unknown as { encodeFast: () => never }).encodeFast = () => { throw new TypeError('fast path bug'); };
    const metrics = request([sum('s', [[{ k: 'v' }, 1]])]);
    for (let i = 0; i < 3; i += 1) assert.ok(Buffer.from(encoder.encode(metrics)!).equals(transformer(metrics)));
    assert.equal(encoder.faults, 3);
    assert.equal(logged.length, 1);
    assert.equal(logged[0].level, 'error');
    assert.equal(logged[0].fields.err, 'fast path bug');
  });
});
