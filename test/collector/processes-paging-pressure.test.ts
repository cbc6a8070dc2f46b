import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { factory as pagingFactory, pagingUsage } from '../../internal/collector/paging/procfs';
import { factory as pressureFactory } from '../../internal/collector/pressure/procfs';
import { factory as processesFactory, processStateName } from '../../internal/collector/processes/procfs';
import { parseVmstat } from '../../internal/procfs/vmstat';
import { collectOnce } from '../support/collect';
import { fixtureRoot, tempHostRoot } from '../support/host-root';
import { FIXTURES } from '../support/paths';

const STAT = 'cpu 1 0 1 1 0 0 0 0 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\nintr 1\nctxt 1\nbtime 1\nprocesses 98765\nprocs_running 3\nprocs_blocked 2\n';

/** A fake host whose processes are in the given states (one per letter), plus one that is not readable. */
function processHost(states: string): ReturnType<typeof tempHostRoot> {
  const files: Record<string, string> = { '/proc/stat': STAT, '/proc/9999/cmdline': '' };
  [...states].forEach((state, i) => {
    files[`/proc/${100 + i}/stat`] = `${100 + i} (proc (${i})) ${state} 1 ${100 + i} ${100 + i} 0 -1 4194560 0 0 0 0 5 3 0 0 20 0 1 0 100 1000 10\n`;
  });
  return tempHostRoot(undefined, files);
}

describe('processes collector', () => {
  it('semconv: four states from /proc/*/stat, created from /proc/stat', async () => {
    const host = processHost('RRSSSDITtZI');
    after(() => host.remove());
    const c = await collectOnce(processesFactory, { hostRoot: host.root });
    const count = c.get('system.process.count');
    assert.equal(count.kind, 'updowncounter');
    assert.equal(count.unit, '{process}');
    const by = (state: string): number => c.value('system.process.count', { 'process.state': state });
    assert.deepEqual([by('running'), by('sleeping'), by('stopped'), by('defunct')], [2, 6, 2, 1]);
    assert.equal(count.points.length, 4);
    assert.equal(c.value('system.process.created'), 98765);
    assert.equal(c.get('system.process.created').kind, 'counter');
    // The fake host has no /proc/sys: no limit rather than a guess.
    assert.equal(c.has('system.process.limit'), false);
  });

  it('semconv: system.process.limit, the smaller of threads-max and pid_max', async () => {
    const host = processHost('RS');
    after(() => host.remove());
    host.write('/proc/sys/kernel/pid_max', '4194304\n');
    host.write('/proc/sys/kernel/threads-max', '63224\n');
    const c = await collectOnce(processesFactory, { hostRoot: host.root });
    const limit = c.get('system.process.limit');
    assert.deepEqual([limit.kind, limit.unit, c.value('system.process.limit')], ['updowncounter', '{thread}', 63224]);
    host.write('/proc/sys/kernel/threads-max', '8000000\n');
    assert.equal((await collectOnce(processesFactory, { hostRoot: host.root })).value('system.process.limit'), 4194304);
    assert.equal((await collectOnce(processesFactory, { hostRoot: host.root, naming: 'hostmetrics' })).names.some((n) => n.endsWith('limit')), false, 'not a Collector metric');
  });

  it('hostmetrics: the Collector\'s states, running and blocked from /proc/stat', async () => {
    const host = processHost('RSSDDTZZI');
    after(() => host.remove());
    const c = await collectOnce(processesFactory, { hostRoot: host.root, naming: 'hostmetrics' });
    const by = (status: string): number => c.value('system.processes.count', { status });
    assert.equal(by('running'), 3);
    assert.equal(by('blocked'), 2);
    assert.equal(by('sleeping'), 2);
    assert.equal(by('zombies'), 2);
    assert.equal(by('stopped'), 1);
    assert.equal(by('idle'), 1);
    assert.equal(c.value('system.processes.created'), 98765);
  });

  it('state mapping', () => {
    assert.equal(processStateName('D', 'semconv'), 'sleeping');
    assert.equal(processStateName('D', 'hostmetrics'), 'blocked');
    assert.equal(processStateName('Z', 'hostmetrics'), 'zombies');
    assert.equal(processStateName('?', 'hostmetrics'), 'unknown');
  });

  it('counts this machine\'s processes', async () => {
    const c = await collectOnce(processesFactory, {});
    const total = c.get('system.process.count').points.reduce((a, p) => a + p.value, 0);
    assert.ok(total >= 2, `${total} processes`);
    assert.ok(c.value('system.process.count', { 'process.state': 'running' }) >= 1, 'this test is running');
  });
});

describe('paging collector', () => {
  it('semconv: usage and utilization per device, operations and faults from vmstat', async () => {
    const c = await collectOnce(pagingFactory, { hostRoot: fixtureRoot('procfs/rhel6-2.6.32') });
    const device = '/dev/mapper/VolGroup-lv_swap';
    const usage = c.get('system.paging.usage');
    assert.equal(usage.kind, 'updowncounter');
    assert.equal(usage.unit, 'By');
    assert.equal(c.value('system.paging.usage', { 'system.device': device, 'system.paging.state': 'used' }), 27536 * 1024);
    assert.equal(c.value('system.paging.usage', { 'system.device': device, 'system.paging.state': 'free' }), (4128764 - 27536) * 1024);
    assert.equal(usage.points.length, 2);
    const used = c.value('system.paging.utilization', { 'system.device': device, 'system.paging.state': 'used' });
    assert.ok(Math.abs(used - 27536 / 4128764) < 1e-12);
    assert.equal(c.value('system.paging.operations', { 'system.paging.direction': 'out', 'system.paging.fault.type': 'major' }), 6884);
    assert.equal(c.value('system.paging.faults', { 'system.paging.fault.type': 'minor' }), 3412233445 - 98123);
  });

  it('operations and faults on the captured VM', async () => {
    const vm = parseVmstat(readFileSync(join(FIXTURES, 'procfs/vm-6.18-2cpu/proc/vmstat'), 'utf8'));
    for (const naming of ['semconv', 'hostmetrics'] as const) {
      const c = await collectOnce(pagingFactory, { hostRoot: fixtureRoot('procfs/vm-6.18-2cpu'), naming });
      const dir = naming === 'semconv' ? 'system.paging.direction' : 'direction';
      const type = naming === 'semconv' ? 'system.paging.fault.type' : 'type';
      const [pin, pout] = naming === 'semconv' ? ['in', 'out'] : ['page_in', 'page_out'];
      assert.equal(c.value('system.paging.operations', { [dir]: pin, [type]: 'major' }), vm.get('pswpin'));
      assert.equal(c.value('system.paging.operations', { [dir]: pout, [type]: 'minor' }), vm.get('pgpgout'));
      // The Collector writes its units in the plural.
      assert.equal(c.get('system.paging.operations').unit, naming === 'semconv' ? '{operation}' : '{operations}');
      assert.equal(c.get('system.paging.faults').unit, naming === 'semconv' ? '{fault}' : '{faults}');
      assert.equal(c.value('system.paging.faults', { [type]: 'major' }), vm.get('pgmajfault'));
      assert.equal(c.value('system.paging.faults', { [type]: 'minor' }), vm.get('pgfault')! - vm.get('pgmajfault')!);
      assert.equal(c.get('system.paging.faults').kind, 'counter');
      assert.equal(c.has('system.paging.usage'), false, 'no swap on this VM');
    }
  });

  it('hostmetrics: cached split out of used for a single swap area', () => {
    const devices = [{ device: '/dev/dm-1', type: 'partition', sizeBytes: 1000, usedBytes: 300, priority: -2 }];
    assert.deepEqual(pagingUsage(devices, 50, 'hostmetrics').map((u) => [u.state, u.bytes]), [['used', 250], ['free', 700], ['cached', 50]]);
    assert.deepEqual(pagingUsage(devices, 50, 'semconv').map((u) => [u.state, u.bytes]), [['used', 300], ['free', 700]]);
    const two = [...devices, { ...devices[0]!, device: '/swapfile' }];
    assert.equal(pagingUsage(two, 50, 'hostmetrics').some((u) => u.state === 'cached'), false);
  });
});

describe('pressure collector', () => {
  it('stall time per resource and type, seconds, cpu full left out', async () => {
    for (const naming of ['semconv', 'hostmetrics'] as const) {
      const c = await collectOnce(pressureFactory, { hostRoot: fixtureRoot('procfs/xeon-64cpu-5.15'), naming });
      const m = c.get('system.linux.pressure.stall_time');
      assert.equal(m.kind, 'counter');
      assert.equal(m.unit, 's');
      const [res, type] = naming === 'semconv' ? ['system.linux.pressure.resource', 'system.linux.pressure.stall_type'] : ['resource', 'type'];
      assert.equal(c.value('system.linux.pressure.stall_time', { [res]: 'io', [type]: 'full' }), 3987.001234);
      assert.equal(c.value('system.linux.pressure.stall_time', { [res]: 'cpu', [type]: 'some' }), 98237.465123);
      assert.equal(c.points('system.linux.pressure.stall_time', { [res]: 'cpu', [type]: 'full' }).length, 0);
      assert.equal(c.value('system.linux.pressure.stall_time', { [res]: 'irq', [type]: 'full' }), 0.812345);
      assert.equal(m.points.length, 6);
    }
  });

  it('a kernel without PSI reports nothing and does not fail', async () => {
    const c = await collectOnce(pressureFactory, { hostRoot: fixtureRoot('procfs/rhel6-2.6.32') });
    assert.deepEqual(c.names, []);
    assert.equal(c.results[0]!.ok, true);
  });
});
