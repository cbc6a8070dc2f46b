import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { HeapTrim } from '../../internal/agent/heap-trim';
import { REPO_ROOT } from '../support/paths';

const MB = 1024 * 1024;

test('a full collection only once the old generation has grown by the step since it was smallest', () => {
  let used = 10 * MB;
  let collected = 0;
  const trim = new HeapTrim(() => { collected += 1; used = 9 * MB; }, () => used, 2 * MB);
  assert.equal(trim.check(), false);
  used = 11.9 * MB;
  assert.equal(trim.check(), false);
  used = 12 * MB;
  assert.equal(trim.check(), true);
  assert.equal(collected, 1);
  // The floor is what the collection left: 9 MB, so 10.9 MB does not collect and 11 MB does.
  used = 10.9 * MB;
  assert.equal(trim.check(), false);
  used = 11 * MB;
  assert.equal(trim.check(), true);
  assert.equal(trim.count(), 2);
});

test('a collection V8 ran by itself lowers the floor the growth is counted from', () => {
  let used = 10 * MB;
  const trim = new HeapTrim(() => { used = 6 * MB; }, () => used, 2 * MB);
  trim.check(); // the floor: 10 MB
  used = 7 * MB; // V8 collected on its own: the floor is now 7 MB
  assert.equal(trim.check(), false);
  used = 8.5 * MB; // 1.5 MB above the floor, less than the step
  assert.equal(trim.check(), false);
  used = 9 * MB;
  assert.equal(trim.check(), true);
});

test('without --expose-gc there is no trim (V8 keeps its own memory reducer); with it, garbage in the old generation is collected', () => {
  const module = join(REPO_ROOT, 'dist', 'internal', 'agent', 'heap-trim.js');
  const script = `
    const { HeapTrim, oldGenerationUsed: old } = require(${JSON.stringify(module)});
    const trim = HeapTrim.fromRuntime();
    if (!trim) { console.log(JSON.stringify({ trim: false })); process.exit(0); }
    trim.check();
    const before = old();
    // Survives two scavenges, so it is promoted to the old generation, then dropped.
    let keep = Array.from({ length: 60000 }, (_, i) => ({ i, s: 'x'.repeat(40) + i }));
    for (let i = 0; i < 4; i++) Array.from({ length: 20000 }, (_, j) => ({ j }));
    const grown = old();
    keep = undefined;
    const collected = trim.check();
    console.log(JSON.stringify({ trim: true, collected, grew: grown - before, after: old() - before, count: trim.count() }));
  `;
  const without = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(without.status, 0, without.stderr);
  assert.deepEqual(JSON.parse(without.stdout), { trim: false });
  const withGc = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  assert.equal(withGc.status, 0, withGc.stderr);
  const r = JSON.parse(withGc.stdout) as { trim: boolean; collected: boolean; grew: number; after: number; count: number };
  assert.ok(r.grew > 2 * MB, `the old generation grew by only ${r.grew} bytes`);
  assert.equal(r.collected, true);
  assert.equal(r.count, 1);
  assert.ok(r.after < r.grew / 4, `${r.after} bytes left of ${r.grew}`);
});
