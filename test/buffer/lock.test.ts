// One agent per buffer directory, under a race: lock takers in separate processes go for a stale
// lock at the same moment, many times over; exactly one wins each time. A killed holder's lock
// is free for the next one.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { DirectoryLock, LOCK_FILE } from '../../internal/buffer/lock';
import { BufferLockedError } from '../../internal/buffer/errors';
import { REPO_ROOT } from '../support/paths';
import { withTempDir } from './helpers';

const CHILD = join(REPO_ROOT, 'dist', 'test', 'buffer', 'lock-child.js');
const RACERS = 3;
const TRIALS = 150;

/** A lock taker in its own process, answering one line per command. */
class Taker {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  readonly child: ChildProcessWithoutNullStreams;

  constructor() {
    this.child = spawn(process.execPath, [CHILD]);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(line);
      else this.lines.push(line);
    });
  }

  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.child.once('exit', (code) => reject(new Error(`lock taker exited ${code}`)));
    });
  }

  send(command: string): Promise<string> {
    this.child.stdin.write(`${command}\n`);
    return this.next();
  }
}

/** A pid no process has: one that just exited. */
function deadPid(): number {
  const done = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(done.stdout);
}

test(`${RACERS} processes racing for a stale lock ${TRIALS} times: exactly one wins each time; a killed holder's lock is free`, async () => {
  await withTempDir('lock', async (dir) => {
    const takers = Array.from({ length: RACERS }, () => new Taker());
    try {
      for (const taker of takers) assert.equal(await taker.next(), 'ready');
      const stale = deadPid();
      for (let trial = 0; trial < TRIALS; trial += 1) {
        writeFileSync(join(dir, LOCK_FILE), `${stale}\n`);
        const results = await Promise.all(takers.map((t) => t.send(`acquire ${dir}`)));
        const winners = results.flatMap((r, i) => (r === 'won' ? [i] : []));
        assert.equal(winners.length, 1, `trial ${trial}: ${JSON.stringify(results)}`);
        assert.deepEqual(results.filter((r) => r !== 'won' && r !== 'locked'), [], `trial ${trial}: no error`);
        assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(takers[winners[0]].child.pid), 'the lock names the winner');
        assert.equal(await takers[winners[0]].send('release'), 'released');
        assert.equal(existsSync(join(dir, LOCK_FILE)), false);
      }
      // The holder is killed with -9: its lock file stays, and is free.
      assert.equal(await takers[0].send(`acquire ${dir}`), 'won');
      assert.equal(await takers[1].send(`acquire ${dir}`), 'locked');
      const exited = new Promise((resolve) => takers[0].child.once('exit', resolve));
      takers[0].child.kill('SIGKILL');
      await exited;
      assert.equal(existsSync(join(dir, LOCK_FILE)), true);
      assert.equal(await takers[1].send(`acquire ${dir}`), 'won');
      assert.throws(() => DirectoryLock.acquire(dir), BufferLockedError, 'this process is kept out too');
    } finally {
      for (const taker of takers) taker.child.kill('SIGKILL');
    }
  });
});
