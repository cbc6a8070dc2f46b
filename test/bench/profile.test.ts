import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summariseProfile, type CpuProfile } from './profile';
import { median, quantile } from './stats';

// The benchmark's arithmetic: a wrong quantile or a misattributed profile would print confident
// nonsense in docs/PERFORMANCE.md.

test('quantiles by nearest rank', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 10);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5), 5);
  assert.ok(Number.isNaN(median([])));
});

test('self time goes to the function; native and async work is charged to the nearest known caller', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 7, 8, 9] },
      { id: 2, callFrame: frame('collect', 'file:///repo/dist/internal/collector/families/cpu.js'), children: [3] },
      { id: 3, callFrame: frame('readFileSync', 'node:fs'), children: [4] },
      { id: 4, callFrame: frame('read', ''), children: [] },
      { id: 5, callFrame: frame('readFileHandle', 'node:internal/fs/promises'), children: [6] },
      { id: 6, callFrame: frame('read', ''), children: [] },
      { id: 7, callFrame: frame('(garbage collector)', ''), children: [] },
      { id: 8, callFrame: frame('(idle)', ''), children: [] },
      { id: 9, callFrame: frame('dispatch', 'node:inspector'), children: [] },
    ],
    samples: [4, 4, 6, 7, 8, 8, 8, 9, 2],
    timeDeltas: [1000, 1000, 2000, 500, 9000, 9000, 9000, 700, 500],
  };
  const summary = summariseProfile(profile);
  assert.equal(summary.busyMs, 5, 'idle and the profiler itself left out');
  assert.deepEqual(
    summary.areas.map((a) => [a.area, a.ms]),
    [['agent: collectors + procfs', 2.5], ['async fs reads (fs.promises: open, fstat, read, close)', 2], ['garbage collector', 0.5]],
  );
  assert.deepEqual(summary.functions[0], { fn: 'read', where: 'from node:fs:1', area: 'agent: collectors + procfs', ms: 2, share: 0.4 });
});
