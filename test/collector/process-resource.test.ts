// One resource per process: the process family's points, collected on the agent's one
// MeterProvider with their process's identity on them, go out under a resource per process (the
// host's attributes plus the identity), written byte for byte as the OTLP transformer writes each
// resource; the batch the local readers see keeps the identity on the points.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValueType, type Attributes } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, MeterProvider, type DataPoint, type MetricData, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { LatestExport } from '../../internal/api/prometheus';
import { ProcessResources } from '../../internal/collector/process/resource';
import type { NamingProfile } from '../../internal/config/types';
import { MetricsEncoder, type MetricsBatch } from '../../internal/exporter/encode';
import { collectEveryFamily, testConfig } from '../support/collect';

const IDENTITY = ['process.pid', 'process.creation.time', 'process.executable.build_id.htlhash', 'process.parent_pid', 'process.executable.name', 'process.owner', 'process.executable.path', 'process.command', 'process.command_line'];

const resourcesOf = (batch: MetricsBatch): ResourceMetrics[] => [batch, ...(batch.others ?? [])];
const pointsOf = (metrics: ResourceMetrics): Array<DataPoint<number>> =>
  metrics.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints as Array<DataPoint<number>>));
/** Every point as "name value attributes", identity from wherever it travels. */
const flattened = (batch: MetricsBatch): string[] =>
  resourcesOf(batch).flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => (m.dataPoints as Array<DataPoint<number>>).map((p) => {
    const identity = Object.fromEntries(Object.entries(rm.resource.attributes).filter(([k]) => k.startsWith('process.')));
    const attributes = Object.fromEntries(Object.entries({ ...identity, ...p.attributes }).sort(([a], [b]) => a.localeCompare(b)));
    return `${m.descriptor.name} ${p.value} ${JSON.stringify(attributes)}`;
  })))).sort();

const collectingOnThisMachine = (naming: NamingProfile): ReturnType<typeof collectEveryFamily> =>
  collectEveryFamily(testConfig({ collectors: { system: { naming }, process: { enabled: true, processes: ['node'], interval: 0, include_command_line: true } } }), naming);

describe('one resource per process', () => {
  for (const naming of ['semconv', 'hostmetrics'] as const) {
    it(`${naming}: each process under its own resource, identity off the points, byte for byte as the transformer writes each resource`, async (t) => {
      const machine = await collectingOnThisMachine(naming);
      t.after(() => machine.shutdown());
      const regrouping = new ProcessResources();
      const encoder = new MetricsEncoder();
      let previous: ResourceMetrics[] = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        const collected = await machine.collect();
        const before = flattened(collected);
        const batch = regrouping.regroup(collected);
        assert.deepEqual(flattened(batch), before, 'the same points and values, identity moved to the resource');
        assert.deepEqual(flattened(collected), before, 'the collected batch, which local readers serve, is left as it was');

        const [host, ...processes] = resourcesOf(batch);
        assert.equal(host.resource, collected.resource, 'the host\'s own metrics keep the host resource');
        assert.ok(pointsOf(host).length > 0);
        assert.ok(host.scopeMetrics.every((s) => s.metrics.every((m) => !m.descriptor.name.startsWith('process.'))), 'no process metric left under the host');
        assert.ok(processes.length >= 1, 'node processes on this machine: at least this one');
        const pids = processes.map((p) => p.resource.attributes['process.pid']);
        assert.ok(pids.includes(process.pid), `${process.pid} in ${pids.join(', ')}`);
        assert.equal(new Set(pids).size, pids.length, 'one resource per process');
        for (const p of processes) {
          for (const [key, value] of Object.entries(collected.resource.attributes)) assert.equal(p.resource.attributes[key], value, `host attribute ${key} on the process resource`);
          for (const point of pointsOf(p)) assert.deepEqual(Object.keys(point.attributes).filter((k) => IDENTITY.includes(k)), [], 'identity is not repeated on the points');
        }
        const own = processes.find((p) => p.resource.attributes['process.pid'] === process.pid)!;
        if (naming === 'semconv') assert.match(String(own.resource.attributes['process.creation.time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        else assert.equal(own.resource.attributes['process.creation.time'], undefined, 'not in the Collector\'s set');
        assert.equal(typeof own.resource.attributes['process.command_line'], 'string', 'switched on here');
        if (cycle > 0) {
          const kept = previous.find((p) => p.resource.attributes['process.pid'] === process.pid)!;
          assert.equal(own.resource, kept.resource, 'a process keeps its resource object between exports (its bytes are written once)');
        }
        previous = processes;

        const ours = Buffer.from(encoder.encode(batch)!);
        const theirs = Buffer.concat(resourcesOf(batch).map((rm) => Buffer.from(ProtobufMetricsSerializer.serializeRequest(rm)!)));
        assert.ok(ours.equals(theirs), `cycle ${cycle}: bytes differ from the transformer's`);
      }
    });
  }

  it('keeps a receiver\'s resources after the processes, leaves a batch without processes alone, and follows the host resource', () => {
    const host = resourceFromAttributes({ 'host.name': 'node-1' });
    const scope = { name: 'tfo-agent', version: '0.1.0' };
    const T: [number, number] = [1_795_000_000, 0];
    const sum = (name: string, points: Array<[Attributes, number]>): MetricData => ({
      descriptor: { name, description: '', unit: 's', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: points.map(([attributes, value]) => ({ startTime: T, endTime: T, attributes, value })),
    });
    const nginx = { 'process.pid': 100, 'process.executable.name': 'nginx' };
    const postgres = { 'process.pid': 200, 'process.executable.name': 'postgres' };
    const nginxUser = { ...nginx, 'cpu.mode': 'user' };
    const postgresUser = { ...postgres, 'cpu.mode': 'user' };
    const received: ResourceMetrics = { resource: resourceFromAttributes({ 'host.name': 'collectd-peer' }), scopeMetrics: [{ scope, metrics: [sum('collectd.cpu', [[{}, 1]])] }] };
    const regrouping = new ProcessResources();

    const alone: MetricsBatch = { resource: host, scopeMetrics: [{ scope, metrics: [sum('system.cpu.time', [[{ 'cpu.mode': 'user' }, 5]])] }], others: [received] };
    assert.equal(regrouping.regroup(alone), alone);

    const first = regrouping.regroup({ resource: host, scopeMetrics: [{ scope, metrics: [sum('process.cpu.time', [[nginxUser, 1], [postgresUser, 2]])] }], others: [received] });
    assert.deepEqual(resourcesOf(first).map((rm) => rm.resource.attributes), [
      { 'host.name': 'node-1' }, { 'host.name': 'node-1', ...nginx }, { 'host.name': 'node-1', ...postgres }, { 'host.name': 'collectd-peer' },
    ]);
    assert.deepEqual(first.scopeMetrics, [], 'the host keeps no empty scope');
    assert.deepEqual(pointsOf(first.others![1]).map((p) => [p.attributes, p.value]), [[{ 'cpu.mode': 'user' }, 2]]);

    // postgres exited; nginx is still there: its resource is the same object, postgres's is gone.
    const second = regrouping.regroup({ resource: host, scopeMetrics: [{ scope, metrics: [sum('process.cpu.time', [[nginxUser, 3]])] }] });
    assert.equal(second.others!.length, 1);
    assert.equal(second.others![0].resource, first.others![0].resource);
    // Another pipeline's host resource (a reload): every process resource follows it.
    const reloaded = resourceFromAttributes({ 'host.name': 'node-1', 'service.version': '2' });
    const third = regrouping.regroup({ resource: reloaded, scopeMetrics: [{ scope, metrics: [sum('process.cpu.time', [[nginxUser, 4], [postgresUser, 1]])] }] });
    assert.deepEqual(third.others!.map((rm) => rm.resource.attributes), [{ ...reloaded.attributes, ...nginx }, { ...reloaded.attributes, ...postgres }]);
  });

  it('leaves the Prometheus exposition of the collected batch with the process labels on each series', async (t) => {
    const machine = await collectingOnThisMachine('semconv');
    t.after(() => machine.shutdown());
    const collected = await machine.collect();
    new ProcessResources().regroup(collected);
    const latest = new LatestExport();
    latest.record(collected);
    const text = latest.prometheusText()!;
    assert.match(text, new RegExp(`^process_memory_usage\\{[^}]*process_pid="${process.pid}"`, 'm'));
  });
});
