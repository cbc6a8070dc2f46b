import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SpillBuffer } from '../../internal/buffer/buffer';
import { BufferLockedError } from '../../internal/buffer/errors';
import { DB_FILE, QUARANTINE_MAX_BATCHES } from '../../internal/buffer/store';
import { ExportAccounting } from '../../internal/exporter/accounting';
import type { EncodedBatch } from '../../internal/exporter/types';
import { silentLogger } from '../../internal/log/logger';
import { REPO_ROOT } from '../support/paths';
import { BatchFactory } from './batches';
import { assertIdentity, bufferConfig, capturedLogger, fillFileSystem, tempDir, withSmallFileSystem, withTempDir } from './helpers';

const REFUSED = { outcome: 'retryable', reason: 'connection_refused', message: 'connect ECONNREFUSED 127.0.0.1:4317' } as const;
const SERIES = 50;

/** Spills like the exporter does: produced, then handed to the buffer. */
async function spillAll(buffer: SpillBuffer, accounting: ExportAccounting, batches: EncodedBatch[]): Promise<void> {
  for (const batch of batches) {
    accounting.recordProduced(batch.points);
    await buffer.spill(batch, REFUSED);
  }
}

function rowsOf(dir: string): Array<{ created_at: number; points: number }> {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    return db.prepare('SELECT created_at, points FROM batches ORDER BY id').all() as Array<{ created_at: number; points: number }>;
  } finally {
    db.close();
  }
}

describe('spill buffer (SQLite file)', () => {
  const factory = new BatchFactory(SERIES);
  let batches: EncodedBatch[];
  before(async () => {
    // Recent enough that the default max_age (24 h) keeps them.
    batches = await factory.many(30, (i) => Date.now() - 60_000 + i * 1000);
  });
  after(() => factory.close());

  test('a spilled batch is in the file, committed, when spill() resolves; it replays byte for byte', async () => {
    await withTempDir('buf', async (dir) => {
    const accounting = new ExportAccounting();
    const buffer = SpillBuffer.open({ config: bufferConfig(dir), accounting, logger: silentLogger() });
    await spillAll(buffer, accounting, batches.slice(0, 3));
    // A second connection sees the rows: they are committed, not pending in this process.
    assert.deepEqual(rowsOf(dir).map((r) => r.created_at), batches.slice(0, 3).map((b) => b.createdAt));
    const items = buffer.peek(10, Infinity, Infinity);
    assert.equal(items.length, 3);
    items.forEach((item, i) => assert.deepEqual(Buffer.from(item.body), Buffer.from(batches[i].body)));
    assert.deepEqual(buffer.stats().points, 3 * SERIES);
    assertIdentity(accounting, 3 * SERIES);
    buffer.acknowledge(items.slice(0, 2));
    assert.equal(accounting.replayed, 2 * SERIES);
    assertIdentity(accounting, SERIES);
    buffer.close();
    });
  });

  test('the file is created by the first spill, not by opening the buffer', async () => {
    await withTempDir('buf', async (dir) => {
      const accounting = new ExportAccounting();
      const buffer = SpillBuffer.open({ config: bufferConfig(dir), accounting, logger: silentLogger() });
      assert.equal(buffer.inMemoryFallback, false, 'an absent file is not a disk failure');
      assert.deepEqual(buffer.stats(), { batches: 0, points: 0, bytes: 0 });
      assert.deepEqual(buffer.peek(10, Infinity, Infinity), []);
      buffer.maintain();
      assert.equal(existsSync(join(dir, DB_FILE)), false, 'upkeep does not create it either');
      await spillAll(buffer, accounting, batches.slice(0, 1));
      assert.deepEqual(rowsOf(dir).map((r) => r.created_at), [batches[0].createdAt], 'the first spill is committed to a new file');
      assert.equal(buffer.inMemoryFallback, false);
      buffer.close();
      const idle = SpillBuffer.open({ config: bufferConfig(join(dir, 'idle')), accounting: new ExportAccounting(), logger: silentLogger() });
      idle.close();
      assert.equal(existsSync(join(dir, 'idle', DB_FILE)), false, 'a buffer that never spilled leaves no file');
    });
  });

  test('the quarantine keeps the newest refused batches within its bound; they leave the backlog counted rejected', async () => {
    await withTempDir('buf', async (dir) => {
      const accounting = new ExportAccounting();
      const buffer = SpillBuffer.open({ config: bufferConfig(dir), accounting, logger: silentLogger() });
      const small = new BatchFactory(1);
      const many = await small.many(QUARANTINE_MAX_BATCHES + 5);
      await small.close();
      await spillAll(buffer, accounting, many);
      for (let items = buffer.peek(7, Infinity, Infinity); items.length > 0; items = buffer.peek(7, Infinity, Infinity)) buffer.reject(items, 'HTTP 400: bad');
      assert.deepEqual(buffer.quarantineStats().batches, QUARANTINE_MAX_BATCHES);
      assert.equal(buffer.stats().batches, 0);
      assert.equal(accounting.dropped.get('rejected'), QUARANTINE_MAX_BATCHES + 5);
      assertIdentity(accounting, 0);
      buffer.close();
    });
  });

  test('a reopened buffer resumes the backlog and counts it as restored', async () => {
    await withTempDir('buf', async (dir) => {
    const first = new ExportAccounting();
    const buffer = SpillBuffer.open({ config: bufferConfig(dir), accounting: first, logger: silentLogger() });
    await spillAll(buffer, first, batches.slice(0, 4));
    buffer.close();
    assert.equal(first.leftInBuffer, 4 * SERIES, 'closing hands the backlog to the file');
    assertIdentity(first, 0);
    // A reload reopens the file with the same accounting: the identity still holds.
    const reloaded = SpillBuffer.open({ config: bufferConfig(dir), accounting: first, logger: silentLogger() });
    assertIdentity(first, 4 * SERIES);
    reloaded.close();
    const second = new ExportAccounting();
    const reopened = SpillBuffer.open({ config: bufferConfig(dir), accounting: second, logger: silentLogger() });
    assert.equal(second.restored, 4 * SERIES);
    assert.equal(reopened.stats().batches, 4);
    assertIdentity(second, 4 * SERIES);
    assert.deepEqual(reopened.peek(1, Infinity, Infinity)[0].createdAt, batches[0].createdAt, 'oldest first after restart');
    reopened.close();
    });
  });

  test('the size bound evicts oldest-first and counts every evicted point', async () => {
    await withTempDir('buf', async (dir) => {
    const accounting = new ExportAccounting();
    const logs = capturedLogger();
    // Room for about ten of these batches.
    const oneBatch = (() => {
      const probe = SpillBuffer.open({ config: bufferConfig(join(dir, 'probe')), accounting: new ExportAccounting(), logger: silentLogger() });
      probe.accept(batches[0]);
      const bytes = probe.stats().bytes;
      probe.close();
      return bytes;
    })();
    const maxBytes = oneBatch * 10.5;
    const buffer = SpillBuffer.open({ config: bufferConfig(join(dir, 'bounded'), { max_size_mb: maxBytes / (1024 * 1024) }), accounting, logger: logs.logger });
    await spillAll(buffer, accounting, batches);
    const stats = buffer.stats();
    assert.ok(stats.bytes <= maxBytes, `stored ${stats.bytes} > bound ${maxBytes}`);
    const kept = rowsOf(join(dir, 'bounded')).map((r) => r.created_at);
    const evicted = batches.length - kept.length;
    assert.ok(evicted > 0);
    assert.deepEqual(kept, batches.slice(evicted).map((b) => b.createdAt), 'the newest batches are the ones kept');
    assert.equal(accounting.dropped.get('evicted_size'), evicted * SERIES);
    assertIdentity(accounting, kept.length * SERIES);
    assert.equal(logs.events('buffer.evicted').length, 1, 'evictions logged once per period, not per spill');
    buffer.close();
    });
  });

  test('the age bound evicts batches older than max_age, oldest-first, exactly counted', async () => {
    await withTempDir('buf', async (dir) => {
    const accounting = new ExportAccounting();
    let now = batches[9].createdAt;
    const buffer = SpillBuffer.open({ config: bufferConfig(dir, { max_age: 60_000 }), accounting, logger: silentLogger(), now: () => now });
    await spillAll(buffer, accounting, batches.slice(0, 10));
    assert.equal(buffer.stats().batches, 10);
    now = batches[4].createdAt + 60_000 + 1; // batches 0..4 are now older than a minute
    buffer.maintain();
    assert.deepEqual(rowsOf(dir).map((r) => r.created_at), batches.slice(5, 10).map((b) => b.createdAt));
    assert.equal(accounting.dropped.get('evicted_age'), 5 * SERIES);
    assertIdentity(accounting, 5 * SERIES);
    buffer.close();
    });
  });

  test('a corrupt database file is moved aside with a timestamp and a fresh one is used', async () => {
    await withTempDir('buf', async (dir) => {
    writeFileSync(join(dir, DB_FILE), Buffer.from('this is not a SQLite database, it is garbage '.repeat(200)));
    const logs = capturedLogger();
    const accounting = new ExportAccounting();
    const buffer = SpillBuffer.open({ config: bufferConfig(dir), accounting, logger: logs.logger });
    const aside = readdirSync(dir).filter((f) => f.startsWith(`${DB_FILE}.corrupt-`));
    assert.equal(aside.length, 1, `moved-aside file in ${readdirSync(dir).join(', ')}`);
    assert.match(aside[0], /^buffer\.db\.corrupt-\d{4}-\d\d-\d\dT/);
    const logged = logs.events('buffer.corrupt');
    assert.equal(logged.length, 1);
    assert.equal(logged[0].level, 'error');
    assert.equal(logged[0].lost_points, undefined, 'not a database: nothing can be counted');
    assert.equal(accounting.dropped.get('corrupt'), undefined);
    assert.equal(buffer.inMemoryFallback, false);
    await spillAll(buffer, accounting, batches.slice(0, 2));
    assert.equal(rowsOf(dir).length, 2);
    assertIdentity(accounting, 2 * SERIES);
    buffer.close();
    });
  });

  test('a damaged file found at open is moved aside and the points its table still shows are counted dropped as corrupt', async () => {
    await withTempDir('buf', async (dir) => {
      for (const damage of ['index pages overwritten', 'written by a newer agent'] as const) {
        const path = join(dir, damage.replace(/ /g, '-'));
        const first = SpillBuffer.open({ config: bufferConfig(path), accounting: new ExportAccounting(), logger: silentLogger() });
        for (const batch of batches.slice(0, 3)) first.accept(batch);
        first.close();
        const file = join(path, DB_FILE);
        const db = new Database(file);
        if (damage === 'written by a newer agent') db.pragma('user_version = 99');
        const root = (db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'batches_created_at'").get() as { rootpage: number }).rootpage;
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.close();
        if (damage === 'index pages overwritten') {
          const content = readFileSync(file);
          for (let i = root * pageSize - 600; i < root * pageSize; i += 1) content[i] = (i * 7) & 0xff;
          writeFileSync(file, content);
        }
        const logs = capturedLogger();
        const accounting = new ExportAccounting();
        const buffer = SpillBuffer.open({ config: bufferConfig(path), accounting, logger: logs.logger });
        await spillAll(buffer, accounting, batches.slice(3, 4));
        const logged = logs.events('buffer.corrupt');
        assert.equal(logged.length, 1, damage);
        assert.equal(logged[0].lost_points, 3 * SERIES, damage);
        assert.equal(accounting.restored, 3 * SERIES, damage);
        assert.equal(accounting.dropped.get('corrupt'), 3 * SERIES, damage);
        assertIdentity(accounting, SERIES);
        buffer.close();
      }
    });
  });

  test('a database corrupted while open is moved aside, its points counted dropped as corrupt', async () => {
    await withTempDir('buf', async (dir) => {
    const accounting = new ExportAccounting();
    const buffer = SpillBuffer.open({ config: bufferConfig(dir), accounting, logger: silentLogger() });
    await spillAll(buffer, accounting, batches.slice(0, 3));
    buffer.close();
    // Keep the header, wreck the pages after it: the open-time check finds it.
    const db = join(dir, DB_FILE);
    const fd = require('node:fs').openSync(db, 'r+');
    require('node:fs').writeSync(fd, Buffer.alloc(8192, 0xab), 0, 8192, 4096);
    require('node:fs').closeSync(fd);
    const again = new ExportAccounting();
    const logs = capturedLogger();
    const reopened = SpillBuffer.open({ config: bufferConfig(dir), accounting: again, logger: logs.logger });
    assert.equal(logs.events('buffer.corrupt').length, 1);
    assert.equal(reopened.stats().batches, 0);
    assertIdentity(again, 0);
    reopened.close();
    });
  });

  test('a second agent on the same directory gets a clear error; a lock left by kill -9 is taken over', async () => {
    const { dir, cleanup } = tempDir('buf');
    const holder = spawn(process.execPath, ['-e', `
      const { SpillBuffer } = require(${JSON.stringify(join(REPO_ROOT, 'dist/internal/buffer/buffer.js'))});
      const { ExportAccounting } = require(${JSON.stringify(join(REPO_ROOT, 'dist/internal/exporter/accounting.js'))});
      const { silentLogger } = require(${JSON.stringify(join(REPO_ROOT, 'dist/internal/log/logger.js'))});
      const { defaultConfig } = require(${JSON.stringify(join(REPO_ROOT, 'dist/internal/config/defaults.js'))});
      SpillBuffer.open({ config: { ...defaultConfig().buffer, path: ${JSON.stringify(dir)} }, accounting: new ExportAccounting(), logger: silentLogger() });
      console.log('locked');
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        holder.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
      });
      assert.throws(
        () => SpillBuffer.open({ config: bufferConfig(dir), accounting: new ExportAccounting(), logger: silentLogger() }),
        (err: unknown) => err instanceof BufferLockedError && err.holderPid === holder.pid && /in use by another tfo-agent/.test(err.message) && err.message.includes(dir),
      );
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
      const buffer = SpillBuffer.open({ config: bufferConfig(dir), accounting: new ExportAccounting(), logger: silentLogger() });
      assert.equal(buffer.inMemoryFallback, false);
      buffer.close();
    } finally {
      holder.kill('SIGKILL');
      cleanup();
    }
  });
});

describe('spill buffer (memory fallback)', () => {
  test('a read-only buffer directory falls back to a bounded memory queue, drops counted and logged once', async (t) => {
    const { dir, cleanup } = tempDir('buf-ro');
    try {
      const bufferDir = join(dir, 'buffer');
      mkdirSync(bufferDir);
      chmodSync(dir, 0o755);
      chmodSync(bufferDir, 0o555);
      // root writes through file modes. Run the agent side without the capabilities that let it
      // (setpriv, util-linux), so it still reads a checkout only root can enter (a 0700 temp dir);
      // without setpriv, as an unprivileged user.
      const args = [join(__dirname, 'fallback-child.js'), bufferDir, '3', '8'];
      const asRoot = process.getuid?.() === 0;
      const setpriv = asRoot ? ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) : undefined;
      const child = setpriv !== undefined
        ? spawnSync(setpriv, ['--bounding-set=-dac_override,-dac_read_search,-fowner', process.execPath, ...args], { encoding: 'utf8', timeout: 20_000 })
        : spawnSync(process.execPath, args, { ...(asRoot ? { uid: 65534, gid: 65534 } : {}), encoding: 'utf8', timeout: 20_000 });
      if (child.error && (child.error as NodeJS.ErrnoException).code === 'EPERM') {
        t.skip('cannot switch to an unprivileged user here');
        return;
      }
      assert.equal(child.status, 0, child.stderr);
      const report = JSON.parse(child.stdout.trim().split('\n').pop() as string) as {
        fallback: boolean;
        backlogBatches: number;
        accounting: { produced: number; in_backlog: number; dropped: Record<string, number> };
        unaccounted: number;
        events: string[];
      };
      assert.equal(report.fallback, true);
      assert.equal(report.backlogBatches, 3, 'memory queue bounded by memory_fallback_batches');
      assert.equal(report.accounting.dropped.memory_full, 5 * 10, 'the five oldest batches were dropped');
      assert.equal(report.accounting.in_backlog, 3 * 10);
      assert.equal(report.unaccounted, 0);
      assert.equal(report.events.filter((e) => e === 'buffer.disk.failing').length, 1, 'disk failure logged once');
      assert.equal(report.events.filter((e) => e === 'buffer.memory_fallback_full.failing').length, 1, 'drops logged once per streak');
      assert.equal(existsSync(join(bufferDir, DB_FILE)), false);
    } finally {
      chmodSync(join(dir, 'buffer'), 0o755);
      cleanup();
    }
  });

  test('a full disk falls back to memory; when space returns the queue goes to disk in order', async (t) => {
    await withSmallFileSystem(t, 16, async (mountpoint) => {
    const factory = new BatchFactory(SERIES);
    try {
      const accounting = new ExportAccounting();
      const logs = capturedLogger();
      const buffer = SpillBuffer.open({ config: bufferConfig(join(mountpoint, 'buffer'), { memory_fallback_batches: 100 }), accounting, logger: logs.logger });
      const base = Date.now();
      const early = await factory.many(2, (i) => base + i);
      await spillAll(buffer, accounting, early);
      // Fill the file system to the last byte.
      const filler = join(mountpoint, 'filler');
      fillFileSystem(filler);
      const during = await factory.many(60, (i) => base + 100 + i);
      await spillAll(buffer, accounting, during);
      assert.equal(buffer.inMemoryFallback, true, 'disk full: memory fallback');
      for (let i = 0; i < 5; i += 1) buffer.maintain(); // upkeep while still full: no new log lines
      assert.equal(buffer.inMemoryFallback, true);
      assert.equal(logs.events('buffer.disk.failing').length, 1, 'logged once for the whole streak');
      assert.equal(logs.events('buffer.disk.recovered').length, 0);
      assert.equal(buffer.peek(10, Infinity, Infinity)[0].createdAt, early[0].createdAt, 'rows on the full disk still replay, oldest first');
      assertIdentity(accounting);
      assert.equal(accounting.inBacklog, accounting.produced, 'nothing dropped: the queue had room');
      require('node:fs').rmSync(filler);
      buffer.maintain();
      assert.equal(buffer.inMemoryFallback, false, JSON.stringify(logs.lines().filter((l) => l.level !== 'info')));
      assert.equal(logs.events('buffer.disk.recovered').length, 1);
      const order = buffer.peek(1000, Infinity, Infinity).map((i) => i.createdAt);
      assert.equal(order.length, 62, 'memory queue moved to disk');
      assert.deepEqual(order, [...early, ...during].map((b) => b.createdAt), 'arrival order kept');
      assertIdentity(accounting, 62 * SERIES);
      buffer.close();
    } finally {
      await factory.close();
    }
    });
  });
});
