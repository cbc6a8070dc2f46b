import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HostFs } from '../../internal/procfs/host';
import { readCmdline } from '../../internal/procfs/pid';
import { readStat } from '../../internal/procfs/stat';
import { FIXTURES } from '../support/paths';

const VM = new HostFs(join(FIXTURES, 'procfs/vm-6.18-2cpu'));

describe('HostFs', () => {
  it('reads /proc and /sys synchronously, and says so: a string, not a promise', () => {
    const text = VM.readText('/proc/stat');
    assert.equal(typeof text, 'string');
    assert.match(text, /^cpu /);
    assert.equal(VM.readOptional('/proc/no-such-file'), undefined);
    assert.ok(Array.isArray(VM.list('/proc')));
    assert.equal(VM.exists('/proc/stat'), true);
  });

  it('reads a process command line off the event loop: it can wait on the process memory lock', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('event loop turned'));
    const args = await readCmdline(new HostFs('/'), process.pid);
    order.push('cmdline read');
    assert.deepEqual(order, ['event loop turned', 'cmdline read']);
    assert.ok(args.some((arg) => arg.endsWith('.js')), `this test's own command line: ${args.join(' ')}`);
  });

  it('/proc/stat: callers in one run share one read; the next run reads again', async () => {
    const first = readStat(VM);
    assert.equal(readStat(VM), first, 'same run, same read');
    await first;
    assert.notEqual(readStat(VM), first, 'a later collection never sees the older snapshot');
  });
});
