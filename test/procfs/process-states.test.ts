import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { factory as processesFactory } from '../../internal/collector/processes/procfs';
import { HostFs } from '../../internal/procfs/host';
import { pidStateCode, ProcessStateReader, type ProcessStates } from '../../internal/procfs/process-states';
import { startCollecting } from '../support/collect';
import { fixtureRoot, tempHostRoot } from '../support/host-root';

/** This process's descriptors open on some process's stat file, by that file's path. */
function openStatFiles(): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (/^\/proc\/\d+\/stat$/.test(target)) paths.push(target);
    } catch {
      // The descriptor readdir itself used, closed since.
    }
  }
  return paths;
}

function plain(states: ProcessStates): Record<string, number> {
  return Object.fromEntries([...states.counts].sort());
}

/** A child that sleeps until killed; stopped with SIGSTOP when asked. */
async function sleeper(): Promise<ChildProcess> {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** The state letter of a pid as the kernel gives it now, read by path. */
function stateOf(pid: number): string {
  const code = pidStateCode(readFileSync(`/proc/${pid}/stat`));
  assert.ok(code !== undefined);
  return String.fromCharCode(code);
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), what);
}

describe('process states read through kept files', () => {
  it('counts the same as opening, reading and closing each file, on this machine', async () => {
    const kept = new ProcessStateReader(new HostFs('/'));
    const fresh = new ProcessStateReader(new HostFs('/'), { maxKept: 0 });
    try {
      await kept.read();
      assert.ok(kept.keptFiles > 0, 'files kept on procfs');
      // Processes come and go and change state between two scans: some pair in a row agrees.
      let agreed = false;
      for (let i = 0; i < 20 && !agreed; i += 1) {
        const a = plain(await kept.read());
        const b = plain(await fresh.read());
        agreed = JSON.stringify(a) === JSON.stringify(b);
      }
      assert.ok(agreed, 'kept and fresh reads agree');
      assert.equal(fresh.keptFiles, 0);
    } finally {
      kept.close();
    }
  });

  it('counts a captured tree as its files say, and reads it again from kept files', async () => {
    const root = fixtureRoot('procfs/vm-6.18-2cpu');
    const expected = { S: 4 };
    assert.deepEqual(plain(await new ProcessStateReader(new HostFs(root)).read()), expected);
    const kept = new ProcessStateReader(new HostFs(root), { keepOpen: true });
    assert.deepEqual(plain(await kept.read()), expected);
    assert.equal(kept.keptFiles, 4);
    assert.deepEqual(plain(await kept.read()), expected);
    kept.close();
    assert.equal(kept.keptFiles, 0);
  });

  it('a kept file that reads empty is dropped and its pid read by path', async () => {
    const host = tempHostRoot(undefined, { '/proc/7/stat': '7 (a) S 1 7\n', '/proc/8/stat': '8 (b) S 1 8\n' });
    const reader = new ProcessStateReader(new HostFs(host.root), { keepOpen: true });
    try {
      assert.deepEqual(plain(await reader.read()), { S: 2 });
      host.write('/proc/7/stat', '');
      const emptied = await reader.read();
      assert.deepEqual(plain(emptied), { S: 1 });
      assert.equal(emptied.skipped, 1);
      assert.equal(reader.keptFiles, 1, 'the emptied file is not kept');
      host.write('/proc/7/stat', '7 (a) Z 1 7\n');
      assert.deepEqual(plain(await reader.read()), { S: 1, Z: 1 });
      assert.equal(reader.keptFiles, 2);
    } finally {
      reader.close();
      host.remove();
    }
  });

  it('a pid reused by another process is read afresh, not through the old file', async () => {
    // /proc/4242 of this host root is a link to a real process's directory: pointing it at
    // another process is a pid reused, with the kernel's own kept files.
    const host = tempHostRoot();
    mkdirSync(join(host.root, 'proc'));
    const link = join(host.root, 'proc', '4242');
    const first = await sleeper();
    const second = await sleeper();
    const reader = new ProcessStateReader(new HostFs(host.root), { keepOpen: true });
    try {
      symlinkSync(`/proc/${first.pid}`, link);
      assert.deepEqual(plain(await reader.read()), { S: 1 });
      assert.equal(openStatFiles().filter((p) => p === `/proc/${first.pid}/stat`).length, 1, 'first process\'s stat kept');
      await end(first);
      second.kill('SIGSTOP');
      await until('second process stopped', () => stateOf(second.pid!) === 'T');
      rmSync(link);
      symlinkSync(`/proc/${second.pid}`, link);
      const states = await reader.read();
      assert.deepEqual(plain(states), { T: 1 }, 'the new process\'s state');
      assert.equal(states.skipped, 0);
      assert.equal(reader.keptFiles, 1);
      const open = openStatFiles();
      assert.equal(open.filter((p) => p === `/proc/${second.pid}/stat`).length, 1, 'second process\'s stat kept');
      assert.equal(open.filter((p) => p === `/proc/${first.pid}/stat`).length, 0, 'first process\'s file closed');
    } finally {
      reader.close();
      await end(first);
      await end(second);
      host.remove();
    }
  });

  it('closes the file of a process that exited', async () => {
    const child = await sleeper();
    const reader = new ProcessStateReader(new HostFs('/'));
    try {
      await reader.read();
      const path = `/proc/${child.pid}/stat`;
      assert.equal(openStatFiles().filter((p) => p === path).length, 1, 'kept while it runs');
      await end(child);
      await reader.read();
      assert.equal(openStatFiles().filter((p) => p === path).length, 0, 'closed once it is gone');
      assert.equal(openStatFiles().length, reader.keptFiles, 'no other file left open');
    } finally {
      reader.close();
      await end(child);
    }
  });

  it('keeps no more files than its cap and counts the rest by path', async () => {
    const capped = new ProcessStateReader(new HostFs('/'), { maxKept: 5 });
    const fresh = new ProcessStateReader(new HostFs('/'), { maxKept: 0 });
    try {
      let agreed = false;
      for (let i = 0; i < 20 && !agreed; i += 1) {
        const a = await capped.read();
        const b = await fresh.read();
        agreed = JSON.stringify(plain(a)) === JSON.stringify(plain(b));
        assert.equal(capped.keptFiles, 5);
        assert.equal(openStatFiles().length, 5);
      }
      assert.ok(agreed, 'capped and fresh reads agree');
    } finally {
      capped.close();
    }
    assert.equal(openStatFiles().length, 0);
  });

  it('the processes collector closes its kept files when it is closed', async () => {
    const before = openStatFiles().length;
    const session = startCollecting(processesFactory, {});
    await session.collect();
    assert.ok(openStatFiles().length > before, 'stat files kept between collections');
    await session.shutdown();
    assert.equal(openStatFiles().length, before);
  });
});
