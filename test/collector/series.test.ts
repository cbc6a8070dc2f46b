import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attributes, BatchObservableResult } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { registerCollector, type Collector } from '../../internal/collector/collector';
import { systemClock } from '../../internal/procfs/host';
import { ON } from '../../internal/collector/declaration';
import type { MetricSink } from '../../internal/collector/naming';
import { ObservedSeries } from '../../internal/collector/series';

class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A family whose series come and go, like processes or disks: it reports what `present` says. */
class ChangingFamily implements Collector<ChangingFamily['metrics']> {
  readonly name = 'changing';
  readonly metrics = {
    usage: { semconv: 'test.usage', hostmetrics: 'test.usage', kind: 'updowncounter', unit: 'By', value: 'double', description: 'x', default: ON },
    ops: { semconv: 'test.ops', hostmetrics: 'test.ops', kind: 'counter', unit: '{operation}', value: 'double', description: 'x', default: ON },
  } as const;
  present: string[] = [];
  fail = false;
  async collect(result: BatchObservableResult | undefined, out: MetricSink<ChangingFamily['metrics']>): Promise<void> {
    if (this.fail) throw new Error('source unreadable');
    for (const device of this.present) {
      out.observe(result, 'usage', 100, { 'system.device': device });
      out.observe(result, 'ops', 7, { 'system.device': device });
    }
  }
}

async function setup() {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  const family = new ChangingFamily();
  const series = new ObservedSeries();
  registerCollector(provider.getMeter('t'), family, 'semconv', systemClock, () => undefined, series);
  const exported = async (): Promise<Map<string, string[]>> => {
    const { resourceMetrics } = await reader.collect();
    series.retainObserved(resourceMetrics as ResourceMetrics);
    const out = new Map<string, string[]>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        out.set(metric.descriptor.name, (metric.dataPoints as Array<{ attributes: Attributes }>).map((p) => String(p.attributes['system.device'])).sort());
      }
    }
    return out;
  };
  return { family, exported, provider };
}

test('a series the collector stops reporting leaves the export (the SDK alone keeps it forever)', async () => {
  const { family, exported, provider } = await setup();
  family.present = ['sda', 'sdb'];
  assert.deepEqual((await exported()).get('test.usage'), ['sda', 'sdb']);
  family.present = ['sda'];
  const second = await exported();
  assert.deepEqual(second.get('test.usage'), ['sda']);
  assert.deepEqual(second.get('test.ops'), ['sda']);
  family.present = [];
  const third = await exported();
  assert.equal(third.has('test.usage'), false, 'a metric with no observed series is not exported at all');
  await provider.shutdown();
});

test('after a failed collection the previous series stay rather than vanishing', async () => {
  const { family, exported, provider } = await setup();
  family.present = ['sda', 'sdb'];
  await exported();
  family.fail = true;
  assert.deepEqual((await exported()).get('test.usage'), ['sda', 'sdb']);
  family.fail = false;
  family.present = ['sdb'];
  assert.deepEqual((await exported()).get('test.usage'), ['sdb']);
  await provider.shutdown();
});

test('instruments nobody tracks (the agent\'s self-metrics) pass untouched', async () => {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  provider.getMeter('t').createObservableGauge('self.gauge').addCallback((r) => r.observe(1, { a: 'x' }));
  const series = new ObservedSeries();
  const { resourceMetrics } = await reader.collect();
  series.retainObserved(resourceMetrics as ResourceMetrics);
  assert.equal(resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints.length, 1);
  await provider.shutdown();
});

/** The exported attribute object of each series of `metric`, by device. */
async function attributeObjects(reader: MetricReader, metric: string): Promise<Map<string, Attributes>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, Attributes>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) {
      if (m.descriptor.name !== metric) continue;
      for (const p of m.dataPoints as Array<{ attributes: Attributes }>) out.set(String(p.attributes['system.device']), p.attributes);
    }
  }
  return out;
}

test('a series is exported with the same attribute object every cycle, though its collector builds it anew (the encoder keeps its bytes by object)', async () => {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  const family = new ChangingFamily();
  registerCollector(provider.getMeter('t'), family, 'semconv', systemClock, () => undefined, new ObservedSeries());
  family.present = ['sda', 'sdb'];
  const first = await attributeObjects(reader, 'test.usage');
  const second = await attributeObjects(reader, 'test.usage');
  const third = await attributeObjects(reader, 'test.usage');
  for (const device of ['sda', 'sdb']) {
    assert.deepEqual(first.get(device), { 'system.device': device });
    assert.equal(second.get(device), first.get(device), `${device}: the same object in the second collection`);
    assert.equal(third.get(device), first.get(device), `${device}: the same object in the third collection`);
    assert.ok(Object.isFrozen(first.get(device)), 'shared between cycles, so nobody may change it');
  }
  await provider.shutdown();
});

test('a collector that reuses one attribute object for several series still exports each series with its own attributes', async () => {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  const family = new ChangingFamily();
  const shared: Attributes = {};
  family.collect = async (result, out) => {
    for (const device of ['sda', 'sdb']) {
      shared['system.device'] = device;
      out.observe(result, 'usage', device === 'sda' ? 1 : 2, shared);
    }
  };
  registerCollector(provider.getMeter('t'), family, 'semconv', systemClock, () => undefined, new ObservedSeries());
  for (let cycle = 0; cycle < 2; cycle++) {
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints as Array<{ attributes: Attributes; value: number }>;
    assert.deepEqual(points.map((p) => [p.attributes['system.device'], p.value]).sort(), [['sda', 1], ['sdb', 2]]);
  }
  await provider.shutdown();
});
