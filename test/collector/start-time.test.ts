import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { HrTime } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { family as networkFamily } from '../../internal/collector/network/declaration';
import { family as systemFamily } from '../../internal/collector/system/declaration';
import { BootStartTimes, hostBootTimeMs } from '../../internal/collector/start-time';
import { HostFs, systemClock } from '../../internal/procfs/host';
import { fixtureRoot, tempHostRoot } from '../support/host-root';

class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const BOOT_MS = 1_700_000_000_000;
const btimeMs = (statPath: string): number => Number(/^btime (\d+)$/m.exec(readFileSync(statPath, 'utf8'))![1]) * 1000;
const ms = (t: HrTime): number => t[0] * 1000 + t[1] / 1e6;

function startsOf(metrics: ResourceMetrics): Map<string, number> {
  const out = new Map<string, number>();
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const p of metric.dataPoints) out.set(`${metric.descriptor.name} ${JSON.stringify(p.attributes)}`, ms(p.startTime));
    }
  }
  return out;
}

describe('boot time as the start of system sums (hostmetrics)', () => {
  it('series there from the first collection start at boot; a later or reset series keeps the SDK\'s start; gauges and other families untouched', async () => {
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('test');
    const io = meter.createObservableCounter('system.network.io');
    const connections = meter.createObservableUpDownCounter('system.network.connections');
    const uptime = meter.createObservableGauge('system.uptime');
    const other = meter.createObservableCounter('process.cpu.time');
    const values: Record<string, number> = { eth0: 100, eth1: 50 };
    let withEth1 = false;
    meter.addBatchObservableCallback((r) => {
      r.observe(io, values.eth0, { device: 'eth0' });
      if (withEth1) r.observe(io, values.eth1, { device: 'eth1' });
      r.observe(connections, 3, { state: 'LISTEN' });
      r.observe(uptime, 10);
      r.observe(other, 1);
    }, [io, connections, uptime, other]);

    const starts = new BootStartTimes(BOOT_MS);
    starts.track(networkFamily, 'hostmetrics');
    starts.track(systemFamily, 'hostmetrics');
    const collect = async (): Promise<Map<string, number>> => {
      const { resourceMetrics } = await reader.collect();
      starts.apply(resourceMetrics);
      return startsOf(resourceMetrics);
    };

    const first = await collect();
    assert.equal(first.get('system.network.io {"device":"eth0"}'), BOOT_MS);
    assert.equal(first.get('system.network.connections {"state":"LISTEN"}'), BOOT_MS, 'non-monotonic sums too, as the Collector');
    assert.notEqual(first.get('system.uptime {}'), BOOT_MS, 'a gauge keeps its own');
    assert.notEqual(first.get('process.cpu.time {}'), BOOT_MS, 'not a system family');

    await sleep(5);
    withEth1 = true;
    values.eth0 = 150;
    const second = await collect();
    assert.equal(second.get('system.network.io {"device":"eth0"}'), BOOT_MS, 'every export, not the first only');
    const appeared = second.get('system.network.io {"device":"eth1"}')!;
    assert.ok(appeared > BOOT_MS && appeared > first.get('system.uptime {}')!, 'an interface seen later starts when it was seen');

    await sleep(5);
    values.eth0 = 20;
    const third = await collect();
    assert.ok(third.get('system.network.io {"device":"eth0"}')! > appeared, 'a counter that went down starts anew');
    await provider.shutdown();
  });

  it('boot time is btime of /proc/stat under the host root, else now minus os.uptime()', async () => {
    const vm = fixtureRoot('procfs/vm-6.18-2cpu');
    assert.equal(await hostBootTimeMs(new HostFs(vm), systemClock), btimeMs(join(vm, 'proc/stat')));
    const empty = tempHostRoot();
    try {
      const estimate = await hostBootTimeMs(new HostFs(empty.root), systemClock);
      assert.ok(Math.abs(estimate - btimeMs('/proc/stat')) < 2_000, `${estimate} is this machine's boot time`);
    } finally {
      empty.remove();
    }
  });
});
