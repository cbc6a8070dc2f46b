import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cpuShares, modeShares, type ModeShares } from '../../internal/procfs/cpu-shares';
import { parseStat, type CpuTimes } from '../../internal/procfs/stat';
import { FIXTURES } from '../support/paths';

/** The four readings of test/fixtures/procfs/cpu-hotplug: offline, back online, iowait steps back. */
const hotplug = [1, 2, 3, 4].map((n) => parseStat(readFileSync(join(FIXTURES, 'procfs/cpu-hotplug', `stat.${n}`), 'utf8')));

function approxShares(actual: ModeShares | undefined, expected: Partial<ModeShares>): void {
  assert.ok(actual !== undefined, 'shares expected');
  for (const [mode, value] of Object.entries(expected)) {
    assert.ok(Math.abs(actual[mode as keyof ModeShares] - value) < 1e-9, `${mode}: ${actual[mode as keyof ModeShares]} is not ${value}`);
  }
  const sum = actual.user + actual.nice + actual.system + actual.idle + actual.iowait + actual.irq + actual.softirq + actual.steal;
  assert.ok(Math.abs(sum - 1) < 1e-9, `modes sum to ${sum}`);
}

const times = (t: Partial<CpuTimes>): CpuTimes => ({ user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0, ...t });

describe('CPU shares between two /proc/stat readings', () => {
  it('a CPU going offline: the total is the CPUs online at both ends, not the shrunken aggregate line', () => {
    const shares = cpuShares(hotplug[0], hotplug[1]);
    assert.deepEqual([...shares.perCpu.keys()], [0], 'cpu1 has no line after: left out');
    approxShares(shares.perCpu.get(0), { user: 0.55, system: 0.1, idle: 0.3, irq: 0.05, busy: 0.7 });
    approxShares(shares.total, { user: 0.55, system: 0.1, idle: 0.3, irq: 0.05, busy: 0.7 });
  });

  it('a CPU coming back online: left out for that interval, its history not counted as now', () => {
    const shares = cpuShares(hotplug[1], hotplug[2]);
    assert.deepEqual([...shares.perCpu.keys()], [0]);
    approxShares(shares.total, { user: 0.5, idle: 0.5, busy: 0.5 });
  });

  it('a counter stepping back (iowait on a tickless kernel) counts 0; the rest still sums to 1', () => {
    const shares = cpuShares(hotplug[2], hotplug[3]);
    approxShares(shares.perCpu.get(0), { user: 0.25, idle: 0.75 });
    approxShares(shares.perCpu.get(1), { user: 0.4, idle: 0.6, iowait: 0 });
    approxShares(shares.total, { user: 0.325, idle: 0.675, iowait: 0, busy: 0.325 });
  });

  it('no time elapsed: no shares; no per-CPU lines: the aggregate line', () => {
    assert.deepEqual(cpuShares(hotplug[0], hotplug[0]), { total: undefined, perCpu: new Map() });
    const aggregateOnly = (stat: (typeof hotplug)[number]) => ({ total: stat.total, perCpu: [] });
    approxShares(cpuShares(aggregateOnly(hotplug[2]), aggregateOnly(hotplug[3])).total, { user: 0.325, idle: 0.675 });
  });

  it('guest time is inside user: reported, never added', () => {
    approxShares(modeShares(times({}), times({ user: 4, guest: 3, idle: 4 })), { user: 0.5, guest: 0.375, idle: 0.5, busy: 0.5 });
  });
});
