import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cpuModes, cpuUtilization, factory } from '../../internal/collector/cpu/procfs';
import { parseCpuinfo } from '../../internal/procfs/cpuinfo';
import { cpuFields, cpuPerCore } from '../../internal/heartbeat/fields';
import { cpuShares } from '../../internal/procfs/cpu-shares';
import { parseStat } from '../../internal/procfs/stat';
import { collectOnce, ManualClock, startCollecting } from '../support/collect';
import { fixtureRoot, tempHostRoot } from '../support/host-root';
import { FIXTURES } from '../support/paths';

const VM = 'procfs/vm-6.18-2cpu';
const vmStat = parseStat(readFileSync(join(FIXTURES, VM, 'proc/stat'), 'utf8'));
const [hotplug0, hotplug1] = [1, 2].map((n) => parseStat(readFileSync(join(FIXTURES, 'procfs/cpu-hotplug', `stat.${n}`), 'utf8')));

/** A /proc/stat with the given per-CPU tick rows [user, nice, system, idle, iowait, irq, softirq, steal]. */
function statText(rows: Record<number, number[]>): string {
  const cpus = Object.entries(rows);
  const total = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => cpus.reduce((sum, [, r]) => sum + r[i]!, 0));
  const line = (name: string, r: number[]): string => `${name} ${r.join(' ')} 0 0`;
  return [line('cpu ', total), ...cpus.map(([cpu, r]) => line(`cpu${cpu}`, r)), 'intr 100 0', 'ctxt 200', 'btime 1700000000', 'processes 300', 'procs_running 1', 'procs_blocked 0', ''].join('\n');
}

// Seconds are ticks / 100: shares carry the usual binary rounding.
function approx(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

describe('cpu collector', () => {
  it('semconv: system.cpu.time per mode from /proc/stat, counts and frequency, nothing opt-in', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot(VM) });
    const time = c.get('system.cpu.time');
    assert.equal(time.kind, 'counter');
    assert.equal(time.unit, 's');
    assert.deepEqual(time.points.map((p) => p.attributes['cpu.mode']).sort(), ['idle', 'interrupt', 'iowait', 'nice', 'steal', 'system', 'user']);
    assert.equal(c.value('system.cpu.time', { 'cpu.mode': 'user' }), vmStat.total.user);
    assert.equal(c.value('system.cpu.time', { 'cpu.mode': 'interrupt' }), vmStat.total.irq + vmStat.total.softirq);
    assert.ok(time.points.every((p) => !('cpu.logical_number' in p.attributes)));
    assert.equal(c.value('system.cpu.logical.count'), 2);
    assert.equal(c.get('system.cpu.logical.count').kind, 'updowncounter');
    assert.equal(c.get('system.cpu.logical.count').unit, '{cpu}');
    assert.equal(c.value('system.cpu.physical.count'), 2);
    // Utilization is opt-in (and would need two snapshots); frequency is recommended.
    assert.equal(c.has('system.cpu.utilization'), false);
    assert.equal(c.points('system.cpu.frequency').length, 2);
  });

  it('hostmetrics: state attribute, wait, softirq apart, cpuN names per CPU by default (as the Collector scrapes)', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot(VM), naming: 'hostmetrics' });
    const states = new Set(c.get('system.cpu.time').points.map((p) => p.attributes['state']));
    assert.deepEqual([...states].sort(), ['idle', 'interrupt', 'nice', 'softirq', 'steal', 'system', 'user', 'wait']);
    assert.equal(c.value('system.cpu.time', { state: 'wait', cpu: 'cpu1' }), vmStat.perCpu[1]!.iowait);
    assert.equal(c.value('system.cpu.time', { state: 'interrupt', cpu: 'cpu0' }), vmStat.perCpu[0]!.irq);
    assert.equal(c.points('system.cpu.time').length, 16);
  });

  it('hostmetrics with per_cpu: false reports the host total, utilization too', async () => {
    const host = tempHostRoot(undefined, { '/proc/stat': statText({ 0: [100, 0, 50, 800, 10, 5, 5, 30], 1: [200, 0, 100, 700, 0, 0, 0, 0] }) });
    after(() => host.remove());
    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, naming: 'hostmetrics', clock, config: { collectors: { system: { cpu_options: { per_cpu: false, utilization: true } } } } });
    after(() => session.shutdown());
    await session.collect();
    host.write('/proc/stat', statText({ 0: [140, 0, 60, 820, 20, 10, 10, 40], 1: [200, 0, 100, 800, 0, 0, 0, 0] }));
    clock.advance(1000);
    const c = await session.collect();
    assert.ok([...c.get('system.cpu.time').points, ...c.get('system.cpu.utilization').points].every((p) => !('cpu' in p.attributes)));
    assert.equal(c.points('system.cpu.time').length, 8);
    approx(c.value('system.cpu.time', { state: 'user' }), 3.4);
    approx(c.value('system.cpu.utilization', { state: 'user' }), 0.2);
  });

  it('semconv per-CPU: cpu.logical_number as an integer', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot('procfs/xeon-64cpu-5.15'), config: { collectors: { system: { cpu_options: { per_cpu: true, frequency: true } } } } });
    assert.equal(c.points('system.cpu.time', { 'cpu.mode': 'idle' }).length, 64);
    assert.equal(c.points('system.cpu.time', { 'cpu.logical_number': 63 }).length, 7);
    assert.equal(c.value('system.cpu.logical.count'), 64);
    assert.equal(c.value('system.cpu.physical.count'), 32);
    const info = parseCpuinfo(readFileSync(join(FIXTURES, 'procfs/xeon-64cpu-5.15/proc/cpuinfo'), 'utf8'));
    const freq = c.get('system.cpu.frequency');
    assert.equal(freq.unit, 'Hz');
    assert.equal(freq.kind, 'gauge');
    assert.equal(freq.points.length, 64);
    assert.equal(c.value('system.cpu.frequency', { 'cpu.logical_number': 5 }), info.mhz.get(5)! * 1e6);
  });

  it('arm64: physical count from sysfs topology, frequency from cpufreq', async () => {
    const host = tempHostRoot('procfs/arm64-graviton2-6.1');
    after(() => host.remove());
    for (const cpu of [0, 1, 2, 3]) host.write(`/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_cur_freq`, `${2500000 + cpu}\n`);
    const c = await collectOnce(factory, { hostRoot: host.root, config: { collectors: { system: { cpu_options: { frequency: true } } } } });
    assert.equal(c.value('system.cpu.physical.count'), 4);
    assert.equal(c.value('system.cpu.frequency', { 'cpu.logical_number': 3 }), 2500003 * 1000);
  });

  it('physical topology is cached and re-read every ten minutes', async () => {
    const host = tempHostRoot(VM);
    after(() => host.remove());
    const clock = new ManualClock();
    // Frequency off: it reads cpuinfo every cycle, which refreshes the topology too.
    const session = startCollecting(factory, { hostRoot: host.root, clock, config: { collectors: { system: { cpu_options: { frequency: false } } } } });
    after(() => session.shutdown());
    assert.equal((await session.collect()).value('system.cpu.physical.count'), 2);
    host.write('/proc/cpuinfo', readFileSync(join(FIXTURES, 'procfs/xeon-64cpu-5.15/proc/cpuinfo'), 'utf8'));
    clock.advance(60_000);
    assert.equal((await session.collect()).value('system.cpu.physical.count'), 2);
    clock.advance(10 * 60_000);
    assert.equal((await session.collect()).value('system.cpu.physical.count'), 32);
  });

  it('container view without cpuinfo or topology: times and logical count, no physical guess', async () => {
    const c = await collectOnce(factory, { hostRoot: fixtureRoot('procfs/container-lxcfs-5.4') });
    assert.equal(c.value('system.cpu.logical.count'), 2);
    assert.equal(c.has('system.cpu.physical.count'), false);
    assert.equal(c.value('system.cpu.time', { 'cpu.mode': 'user' }), 18234.12);
  });

  it('utilization from the delta of two snapshots; CPUs going offline never give negative values', async () => {
    const host = tempHostRoot(undefined, { '/proc/stat': statText({ 0: [100, 0, 50, 800, 10, 5, 5, 30], 1: [200, 0, 100, 700, 0, 0, 0, 0], 2: [0, 0, 0, 1000, 0, 0, 0, 0] }) });
    after(() => host.remove());
    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, clock, config: { collectors: { system: { cpu_options: { per_cpu: true, utilization: true } } } } });
    after(() => session.shutdown());
    await session.collect();
    // cpu0 spends 100 ticks: 40 user, 10 system, 20 idle, 10 iowait, 5 irq, 5 softirq, 10 steal.
    host.write('/proc/stat', statText({ 0: [140, 0, 60, 820, 20, 10, 10, 40], 1: [200, 0, 100, 800, 0, 0, 0, 0], 2: [0, 0, 0, 1100, 0, 0, 0, 0] }));
    clock.advance(1000);
    const second = await session.collect();
    const share = (mode: string, cpu: number): number => second.value('system.cpu.utilization', { 'cpu.mode': mode, 'cpu.logical_number': cpu });
    approx(share('user', 0), 0.4);
    approx(share('interrupt', 0), 0.1);
    approx(share('steal', 0), 0.1);
    approx(share('idle', 1), 1);
    const sum0 = second.points('system.cpu.utilization', { 'cpu.logical_number': 0 }).reduce((a, p) => a + p.value, 0);
    assert.ok(Math.abs(sum0 - 1) < 1e-9);
    // cpu1 goes offline: it has no line; the others keep their shares.
    host.write('/proc/stat', statText({ 0: [150, 0, 60, 830, 20, 10, 10, 40], 2: [0, 0, 0, 1110, 0, 0, 0, 0] }));
    const third = await session.collect();
    assert.equal(third.value('system.cpu.logical.count'), 2);
    approx(third.value('system.cpu.utilization', { 'cpu.mode': 'user', 'cpu.logical_number': 0 }), 0.5);
    assert.ok(third.get('system.cpu.time').points.every((p) => p.value >= 0));
    assert.ok(third.get('system.cpu.utilization').points.every((p) => p.value >= 0 && p.value <= 1));
  });

  it('across hotplug and a counter stepping back, agrees with the heartbeat on every interval', async () => {
    const readings = [1, 2, 3, 4].map((n) => readFileSync(join(FIXTURES, 'procfs/cpu-hotplug', `stat.${n}`), 'utf8'));
    const host = tempHostRoot(undefined, { '/proc/stat': readings[0] });
    after(() => host.remove());
    const clock = new ManualClock();
    const total = startCollecting(factory, { hostRoot: host.root, clock, config: { collectors: { system: { cpu_options: { utilization: true } } } } });
    const perCpu = startCollecting(factory, { hostRoot: host.root, clock, config: { collectors: { system: { cpu_options: { per_cpu: true, utilization: true } } } } });
    after(() => total.shutdown());
    after(() => perCpu.shutdown());
    await total.collect();
    await perCpu.collect();
    for (let i = 1; i < readings.length; i += 1) {
      host.write('/proc/stat', readings[i]);
      clock.advance(1000);
      const collected = await total.collect();
      const cores = await perCpu.collect();
      const heartbeat = cpuShares(parseStat(readings[i - 1]), parseStat(readings[i]));
      const fields = cpuFields(heartbeat.total!);
      const share = (mode: string): number => collected.value('system.cpu.utilization', { 'cpu.mode': mode });
      // The heartbeat rounds to two decimals of a percent.
      assert.ok(Math.abs(share('user') * 100 - fields.cpuUserPercent!) < 0.01, `interval ${i}: user ${share('user')} vs ${fields.cpuUserPercent}%`);
      assert.ok(Math.abs((1 - share('idle') - share('iowait')) * 100 - fields.cpuUsage!) < 0.01, `interval ${i}: busy vs cpuUsage ${fields.cpuUsage}%`);
      for (const core of cpuPerCore(heartbeat.perCpu)) {
        const user = cores.value('system.cpu.utilization', { 'cpu.mode': 'user', 'cpu.logical_number': core.coreId });
        assert.ok(Math.abs(user * 100 - core.userPercent) < 0.01, `interval ${i}, cpu${core.coreId}`);
      }
      const measured = new Set(cores.points('system.cpu.utilization').map((p) => p.attributes['cpu.logical_number']));
      assert.deepEqual([...measured].sort(), [...heartbeat.perCpu.keys()].sort(), `interval ${i}: the same CPUs measured`);
    }
  });

  it('maps shares to the profile modes', () => {
    assert.deepEqual(cpuModes(vmStat.total, 'hostmetrics').map(([m]) => m), ['user', 'nice', 'system', 'idle', 'iowait', 'steal', 'interrupt', 'softirq']);
    const shares = cpuShares(hotplug0, hotplug1).total!;
    assert.deepEqual(cpuUtilization(shares, 'semconv').find(([mode]) => mode === 'interrupt'), ['interrupt', shares.irq + shares.softirq]);
  });

  it('agrees with this machine\'s /proc/stat read just after', async () => {
    const c = await collectOnce(factory, {});
    const stat = parseStat(readFileSync('/proc/stat', 'utf8'));
    const idle = c.value('system.cpu.time', { 'cpu.mode': 'idle' });
    // Read after the collection: never lower, and at most a second of idle per CPU later.
    assert.ok(idle <= stat.total.idle && stat.total.idle - idle < stat.perCpu.length, `${idle} vs ${stat.total.idle}`);
    assert.equal(c.value('system.cpu.logical.count'), stat.perCpu.length);
  });
});
