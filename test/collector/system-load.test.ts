import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { factory as loadFactory } from '../../internal/collector/load/procfs';
import { factory as systemFactory } from '../../internal/collector/system/procfs';
import { parseFileNr } from '../../internal/procfs/file-nr';
import { parseStat } from '../../internal/procfs/stat';
import { parseUptime } from '../../internal/procfs/uptime';
import { collectOnce, startCollecting } from '../support/collect';
import { fixtureRoot, tempHostRoot } from '../support/host-root';
import { FIXTURES } from '../support/paths';

const VM = 'procfs/vm-6.18-2cpu';

function hrToNanos([s, ns]: [number, number]): bigint {
  return BigInt(s) * 1_000_000_000n + BigInt(ns);
}

describe('load collector', () => {
  for (const naming of ['semconv', 'hostmetrics'] as const) {
    it(`${naming}: three gauges from /proc/loadavg`, async () => {
      const c = await collectOnce(loadFactory, { hostRoot: fixtureRoot('procfs/xeon-64cpu-5.15'), naming });
      assert.deepEqual(c.names, ['system.cpu.load_average.15m', 'system.cpu.load_average.1m', 'system.cpu.load_average.5m']);
      assert.equal(c.value('system.cpu.load_average.1m'), 37.12);
      assert.equal(c.value('system.cpu.load_average.15m'), 33.07);
      const m = c.get('system.cpu.load_average.5m');
      assert.equal(m.kind, 'gauge');
      assert.equal(m.unit, '{thread}');
    });
  }
});

describe('system collector', () => {
  it('uptime, file descriptors, entropy, context switches and interrupts', async () => {
    const read = (path: string): string => readFileSync(join(FIXTURES, VM, path), 'utf8');
    const stat = parseStat(read('proc/stat'));
    const uptime = parseUptime(read('proc/uptime'));
    const files = parseFileNr(read('proc/sys/fs/file-nr'));
    for (const naming of ['semconv', 'hostmetrics'] as const) {
      const c = await collectOnce(systemFactory, { hostRoot: fixtureRoot(VM), naming });
      assert.equal(c.value('system.uptime'), uptime.uptime);
      assert.equal(c.get('system.uptime').kind, 'gauge');
      assert.equal(c.get('system.uptime').unit, 's');
      assert.equal(c.value('system.linux.file_descriptor.count'), files.allocated - files.unused);
      assert.equal(c.value('system.linux.file_descriptor.limit'), files.max);
      assert.equal(c.get('system.linux.file_descriptor.count').kind, 'updowncounter');
      assert.equal(c.value('system.linux.entropy.available'), 256);
      assert.equal(c.value('system.linux.context_switch.count'), stat.contextSwitches);
      assert.equal(c.get('system.linux.context_switch.count').kind, 'counter');
      const typeKey = naming === 'semconv' ? 'system.linux.interrupt.type' : 'type';
      assert.equal(c.value('system.linux.interrupt.count', { [typeKey]: 'hard' }), stat.interrupts);
      assert.equal(c.value('system.linux.interrupt.count', { [typeKey]: 'soft' }), stat.softInterrupts);
    }
  });

  it('a container view without /proc/sys still reports uptime and /proc/stat counters', async () => {
    const c = await collectOnce(systemFactory, { hostRoot: fixtureRoot('procfs/container-lxcfs-5.4') });
    assert.equal(c.value('system.uptime'), 86412);
    assert.equal(c.value('system.linux.context_switch.count'), 1712334501);
    assert.equal(c.has('system.linux.file_descriptor.count'), false);
    assert.equal(c.has('system.linux.entropy.available'), false);
  });

  it('a garbage file fails the collection with the file named, it does not crash', async () => {
    const host = tempHostRoot(VM, { '/proc/sys/fs/file-nr': 'garbage\n' });
    after(() => host.remove());
    const c = await collectOnce(systemFactory, { hostRoot: host.root, allowFailure: true });
    assert.equal(c.results.length, 1);
    assert.equal(c.results[0]!.ok, false);
    assert.match(c.results[0]!.error!, /\/proc\/sys\/fs\/file-nr/);
  });

  it('a kernel counter that goes down starts a new series: new start time, never negative', async () => {
    const host = tempHostRoot(VM);
    after(() => host.remove());
    const session = startCollecting(systemFactory, { hostRoot: host.root });
    after(() => session.shutdown());
    const statText = readFileSync(join(host.root, 'proc/stat'), 'utf8');
    const withCtxt = (n: number): string => statText.replace(/^ctxt \d+$/m, `ctxt ${n}`);
    host.write('/proc/stat', withCtxt(5_000_000));
    const first = (await session.collect()).point('system.linux.context_switch.count');
    host.write('/proc/stat', withCtxt(6_000_000));
    const second = (await session.collect()).point('system.linux.context_switch.count');
    assert.equal(second.value, 6_000_000);
    assert.equal(hrToNanos(second.startTime), hrToNanos(first.startTime));
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The counter restarts (a reboot under a kept agent, a wrapped counter): raw value, new series.
    host.write('/proc/stat', withCtxt(1_000));
    const reset = (await session.collect()).point('system.linux.context_switch.count');
    assert.equal(reset.value, 1_000);
    assert.ok(reset.value >= 0);
    assert.ok(hrToNanos(reset.startTime) > hrToNanos(second.startTime), 'a reset carries a new start time');
    host.write('/proc/stat', withCtxt(2_000));
    const after1 = (await session.collect()).point('system.linux.context_switch.count');
    assert.equal(after1.value, 2_000);
    assert.equal(hrToNanos(after1.startTime), hrToNanos(reset.startTime));
  });
});
