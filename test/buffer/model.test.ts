// A model-based test of the spill buffer, in the manner of Vector's buffer model tests: seeded
// random sequences of spill, acknowledge, reject, age eviction, a damaged row, a wrecked file,
// reopen and restart run against the real buffer on a real SQLite file, beside a model of what
// it must hold. After every step: the accounting identity holds exactly, the backlog is what the
// model says, oldest first, and nothing comes out that was not spilled or that already left.
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SpillBuffer } from '../../internal/buffer/buffer';
import { DB_FILE } from '../../internal/buffer/store';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { silentLogger } from '../../internal/log/logger';
import { bufferConfig, withTempDir } from './helpers';

const SEEDS = 24;
const STEPS = 120;
const MAX_AGE_MS = 60_000;

/** mulberry32: small, seeded, good enough to pick operations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A body that names its batch; repetitive ones are stored deflated, short ones raw. */
function bodyOf(serial: number, repeat: number): Buffer {
  return Buffer.from(`batch:${serial};`.repeat(repeat));
}

function serialOf(body: Uint8Array): number {
  const match = /^batch:(\d+);/.exec(Buffer.from(body).toString('latin1'));
  assert.ok(match, `a batch came out that was never spilled: ${Buffer.from(body).subarray(0, 32).toString('hex')}`);
  return Number(match[1]);
}

interface Spilled {
  serial: number;
  points: number;
  createdAt: number;
}

function runSeed(seed: number, dir: string): void {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  let now = 1_700_000_000_000;
  const config = bufferConfig(dir, { max_age: MAX_AGE_MS, max_size_mb: 100 });
  const open = (accounting: ExportAccounting) => SpillBuffer.open({ config, accounting, logger: silentLogger(), now: () => now });
  let accounting = new ExportAccounting();
  let buffer = open(accounting);
  /** What the buffer must hold, in spill order. */
  let live: Spilled[] = [];
  /** Serials that left the buffer (delivered, refused, evicted, lost): never to be seen again. */
  const gone = new Set<number>();
  /** Serials whose row was damaged: quarantined the next time replay reaches them. */
  const damaged = new Set<number>();
  let damagedPoints = 0;
  /** Row id of each stored batch, as the last read showed it. */
  const rowOf = new Map<number, number>();
  let serial = 0;
  const history: string[] = [];

  const leave = (serials: Iterable<number>) => {
    const out = new Set(serials);
    for (const s of out) gone.add(s);
    live = live.filter((b) => !out.has(b.serial));
  };

  /** Reads the whole backlog as replay would (damaged rows are quarantined on the way). */
  const check = () => {
    const context = `seed ${seed}, after ${history.join(' ')}`;
    const items = buffer.peek(100_000, Infinity, Infinity);
    const serials = items.map((i) => serialOf(i.body));
    items.forEach((item, i) => rowOf.set(serials[i], item.id));
    for (const s of serials) assert.ok(!gone.has(s), `${context}: batch ${s} came out after it left`);
    const quarantined = live.filter((b) => damaged.has(b.serial));
    leave(quarantined.map((b) => b.serial));
    damagedPoints += quarantined.reduce((sum, b) => sum + b.points, 0);
    for (const b of quarantined) damaged.delete(b.serial);
    assert.deepEqual(serials, live.map((b) => b.serial), `${context}: the backlog, oldest first`);
    assert.equal(accounting.unaccounted(), 0, `${context}: ${JSON.stringify(accounting.snapshot())}`);
    assert.equal(accounting.inBacklog, live.reduce((sum, b) => sum + b.points, 0), `${context}: backlog points`);
    assert.equal(buffer.stats().batches, live.length, `${context}: backlog batches`);
    assert.equal(accounting.dropped.get('undecodable') ?? 0, damagedPoints, `${context}: undecodable points`);
  };

  const operations: Record<string, () => void> = {
    spill: () => {
      const points = 1 + Math.floor(random() * 40);
      const batch = { body: bodyOf(serial, random() < 0.5 ? 1 : 20), points, createdAt: now };
      accounting.recordProduced(points);
      buffer.accept(batch);
      live.push({ serial, points, createdAt: now });
      serial += 1;
    },
    acknowledge: () => {
      const items = buffer.peek(1 + Math.floor(random() * 4), Infinity, Infinity);
      buffer.acknowledge(items);
      leave(items.map((i) => serialOf(i.body)));
    },
    reject: () => {
      const items = buffer.peek(1, Infinity, Infinity);
      buffer.reject(items, 'HTTP 400: refused');
      leave(items.map((i) => serialOf(i.body)));
    },
    evict: () => {
      now += Math.floor(random() * MAX_AGE_MS);
      buffer.maintain();
      leave(live.filter((b) => b.createdAt < now - MAX_AGE_MS).map((b) => b.serial));
    },
    damage: () => {
      const candidates = live.filter((b) => !damaged.has(b.serial));
      if (candidates.length === 0) return;
      const victim = pick(candidates);
      // 0xff opens a raw deflate block of the reserved type: it never decodes.
      const db = new Database(join(dir, DB_FILE));
      db.prepare('UPDATE batches SET encoding = 1, body = ? WHERE id = ?').run(Buffer.from([0xff, 0x00, 0x01]), rowOf.get(victim.serial));
      db.close();
      damaged.add(victim.serial);
    },
    reopen: () => {
      buffer.close();
      buffer = open(accounting);
    },
    restart: () => {
      // A new process: the ledger starts again, and what the file holds is restored.
      buffer.close();
      accounting = new ExportAccounting();
      damagedPoints = 0;
      buffer = open(accounting);
    },
    wreck: () => {
      // The whole file damaged between two runs: moved aside, its batches lost to the agent.
      buffer.close();
      accounting = new ExportAccounting();
      damagedPoints = 0;
      const fd = openSync(join(dir, DB_FILE), 'r+');
      writeSync(fd, Buffer.alloc(8192, 0xab), 0, 8192, 4096);
      closeSync(fd);
      buffer = open(accounting);
      leave(live.map((b) => b.serial));
      damaged.clear();
    },
  };
  const weights: Array<[string, number]> = [
    ['spill', 10],
    ['acknowledge', 5],
    ['reject', 1],
    ['evict', 1],
    ['damage', 1],
    ['reopen', 1],
    ['restart', 1],
    ['wreck', 0.2],
  ];
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  try {
    for (let step = 0; step < STEPS; step += 1) {
      let r = random() * total;
      const [name] = weights.find(([, w]) => (r -= w) < 0) ?? weights[0];
      // A wrecked file only exists once something was spilled.
      if (name === 'wreck' && serial === 0) continue;
      history.push(name);
      operations[name]();
      check();
    }
  } finally {
    buffer.close();
  }
}

test(`spill buffer model: ${SEEDS} seeds x ${STEPS} random steps keep the identity and the backlog exact`, async () => {
  for (let seed = 1; seed <= SEEDS; seed += 1) {
    await withTempDir('model', async (dir) => runSeed(seed, dir));
  }
});
