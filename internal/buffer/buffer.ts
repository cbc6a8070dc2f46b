import { accessSync, constants as fsConstants, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { BufferConfig } from '../config/types';
import type { ExportAccounting } from '../exporter/accounting';
import type { Signal } from '../exporter/endpoint';
import type { EncodedBatch, SendResult, SpillSink } from '../exporter/types';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { BufferLockedError, classifyStorageError } from './errors';
import { DirectoryLock } from './lock';
import { DB_FILE, SqliteStore, type BacklogStats, type QuarantineStats } from './store';

/** Why points left the buffer without being delivered; the `reason` of the dropped counter. */
export type DropReason = 'rejected' | 'undecodable' | 'evicted_size' | 'evicted_age' | 'memory_full' | 'corrupt' | 'shutdown';

/** A batch handed to the replayer; `id` is the row id, or negative for the memory queue. */
export interface BacklogItem {
  id: number;
  createdAt: number;
  points: number;
  body: Uint8Array;
  signal: Signal;
}

export interface SpillBufferOptions {
  config: BufferConfig;
  accounting: ExportAccounting;
  logger: Logger;
  /** Wall-clock ms; tests pass their own to drive age eviction. */
  now?: () => number;
}

// During a long outage at a bound every spill evicts: one summary line per period, not per cycle.
const EVICTION_LOG_EVERY_MS = 5 * 60_000;
// Undecodable rows logged one by one at error level; later ones are only counted.
const MAX_LOGGED_QUARANTINES = 50;

interface MemoryEntry extends BacklogItem {
  bytes: number;
}

/**
 * The spill buffer: a SQLite file under `buffer.path` and, when the disk cannot take a batch, a
 * bounded in-memory queue. It is the exporter's SpillSink and the replayer's source. Every point
 * that enters or leaves is reported to ExportAccounting, by reason when it is dropped.
 */
export class SpillBuffer implements SpillSink {
  private store: SqliteStore | undefined;
  private lock: DirectoryLock | undefined;
  private readonly memory: MemoryEntry[] = [];
  private nextMemoryId = -1;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly diskStreak: FailureStreak;
  private readonly memoryFullStreak: FailureStreak;
  private closed = false;
  private everOpened = false;
  private lastEvictionLogAt: number | undefined;
  private unloggedEvictions = { age: 0, size: 0 };
  /** Wall-clock ms before which a failed delete is not tried again (paced by flush_interval). */
  private nextRemovalRetryAt = 0;
  /** The file had the last turn: peek() tries the memory queue first. */
  private memoryTurn = false;
  private readonly spillListeners = new Set<() => void>();
  private loggedQuarantines = 0;
  /** False from a failed write (full or read-only disk) until a write succeeds again. */
  private writable = false;
  /**
   * No file yet and nothing spilled: the first spill creates it. A healthy agent then never
   * loads SQLite (2.5 MB of resident memory) nor writes to the disk.
   */
  private deferred = false;

  private constructor(private readonly options: SpillBufferOptions) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger.child({ component: 'buffer' });
    this.diskStreak = new FailureStreak(this.logger, 'buffer.disk', this.now);
    this.memoryFullStreak = new FailureStreak(this.logger, 'buffer.memory_fallback_full', this.now);
  }

  /**
   * Opens (or creates) the buffer under `config.path`. Throws BufferLockedError when another live
   * agent holds the directory; any other storage problem leaves the buffer in memory fallback.
   */
  static open(options: SpillBufferOptions): SpillBuffer {
    const buffer = new SpillBuffer(options);
    buffer.openDisk({ deferCreation: true });
    return buffer;
  }

  get file(): string {
    return join(this.options.config.path, DB_FILE);
  }

  /** True while batches go to memory because the disk cannot take them. */
  get inMemoryFallback(): boolean {
    return !this.deferred && (this.store === undefined || !this.writable);
  }

  /**
   * Takes the directory and opens the file. With `deferCreation`, a missing file in a writable
   * directory is left for the first spill to create; an unwritable one fails here, at start.
   */
  private openDisk(options: { deferCreation?: boolean } = {}): void {
    const dir = this.options.config.path;
    try {
      mkdirSync(dir, { recursive: true });
      this.lock ??= DirectoryLock.acquire(dir);
      if (options.deferCreation && !existsSync(this.file)) {
        accessSync(dir, fsConstants.W_OK);
        this.deferred = true;
        this.writable = true;
        return;
      }
      this.deferred = false;
      this.store = this.openStore();
      this.writable = true;
      if (!this.everOpened) this.restore(this.store);
      this.everOpened = true;
    } catch (err) {
      if (err instanceof BufferLockedError) throw err;
      this.store = undefined;
      this.diskStreak.failure(classifyStorageError(err), { file: this.file, err: errorMessage(err), fallback_batches: this.options.config.memory_fallback_batches });
    }
  }

  /** The first open of the file takes over what an earlier run (or a reload) left in it. */
  private restore(store: SqliteStore): void {
    const restored = store.stats();
    if (restored.batches === 0) return;
    this.options.accounting.recordRestored(restored.points);
    this.logger.info(
      { event: 'buffer.restored', batches: restored.batches, points: restored.points, bytes: restored.bytes, oldest: isoOrUndefined(restored.oldestAt) },
      'resuming the backlog left in the buffer file',
    );
  }

  /** Opens the file; a corrupt one is moved aside with a timestamp and a fresh one created. */
  private openStore(): SqliteStore {
    try {
      return new SqliteStore(this.file);
    } catch (err) {
      if (classifyStorageError(err) !== 'corrupt') throw err;
      // What it held is taken over and lost at once, as far as its rows can still be read; a
      // file already opened by this buffer had its points counted when they went in.
      const lost = this.everOpened ? undefined : SqliteStore.readableBacklog(this.file);
      this.moveAside(err, lost);
      if (lost !== undefined && lost.points > 0) {
        this.options.accounting.recordRestored(lost.points);
        this.drop('corrupt', lost.points, true);
      }
      return new SqliteStore(this.file);
    }
  }

  private moveAside(cause: unknown, lost?: { batches: number; points: number }): void {
    const aside = `${this.file}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.file, aside);
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(this.file + suffix)) renameSync(this.file + suffix, aside + suffix);
    }
    this.logger.error(
      { event: 'buffer.corrupt', file: this.file, moved_to: aside, err: errorMessage(cause), ...(lost === undefined ? {} : { lost_batches: lost.batches, lost_points: lost.points }) },
      'buffer database is corrupt or unreadable: moved aside, starting a fresh one',
    );
  }

  /**
   * Runs a store operation; on a storage fault `undefined` is returned and the disk is set aside
   * (unwritable: writes go to memory until one succeeds again; corrupt: the file is moved aside,
   * its points counted dropped, and a fresh one opened).
   */
  private onDisk<T>(what: string, op: (store: SqliteStore) => T): T | undefined {
    const store = this.store;
    if (store === undefined) return undefined;
    try {
      return op(store);
    } catch (err) {
      if (classifyStorageError(err) === 'other') throw err;
      this.storageFault(what, err, store);
      return undefined;
    }
  }

  /** A write, read or delete on `store` failed with a storage fault (see onDisk). */
  private storageFault(what: string, err: unknown, store: SqliteStore): void {
    const fault = classifyStorageError(err);
    if (fault !== 'corrupt') {
      // The file stays open: its rows still replay (reads work on a full disk), and the next
      // write to it is the probe that ends the fallback.
      this.writable = false;
      this.diskStreak.failure(fault === 'other' ? 'storage_error' : fault, { operation: what, file: this.file, err: errorMessage(err), fallback_batches: this.options.config.memory_fallback_batches });
      return;
    }
    // Corrupt: what it held is lost to us; a fresh file takes its place.
    store.close();
    this.store = undefined;
    this.drop('corrupt', store.points, true);
    try {
      this.moveAside(err);
      this.openDisk();
    } catch (moveErr) {
      // Cannot even rename it (read-only directory): memory fallback until maintain() retries.
      this.diskStreak.failure('corrupt', { file: this.file, err: errorMessage(err), move_err: errorMessage(moveErr) });
    }
  }

  /**
   * Rows out of the backlog whose delete failed: the fault is handled like any other, and the
   * delete is retried by maintain(), never by sending the batch again.
   */
  private removalFailed(error: unknown): void {
    const store = this.store;
    if (error === undefined || store === undefined) return;
    this.nextRemovalRetryAt = this.now() + this.options.config.flush_interval;
    this.storageFault('delete', error, store);
  }

  async spill(batch: EncodedBatch, _failure: Extract<SendResult, { outcome: 'retryable' }>): Promise<void> {
    this.accept(batch);
  }

  /** Stores a batch (disk first, memory when the disk cannot), then applies the bounds. */
  accept(batch: EncodedBatch): void {
    if (this.closed) throw new Error('spill buffer is closed');
    if (this.deferred) this.openDisk();
    if (this.memory.length > 0 && this.store !== undefined) this.flushMemoryToDisk();
    // An unexpected SQLite error propagates from here before anything is counted: the exporter
    // then counts the batch dropped (spill_error) itself.
    const stored = this.memory.length === 0 && this.onDisk('insert', (store) => store.insert(batch)) !== undefined;
    this.options.accounting.recordSpilled(batch.points);
    if (stored) this.wroteToDisk();
    if (!stored) this.pushMemory(batch);
    this.enforceBounds();
    for (const listener of this.spillListeners) listener();
  }

  private pushMemory(batch: EncodedBatch): void {
    const limit = this.options.config.memory_fallback_batches;
    while (this.memory.length >= limit && this.memory.length > 0) {
      const oldest = this.memory.shift() as MemoryEntry;
      this.drop('memory_full', oldest.points, true);
      this.memoryFullStreak.failure('memory_full', { limit, points: oldest.points });
    }
    if (limit === 0) {
      this.drop('memory_full', batch.points, true);
      this.memoryFullStreak.failure('memory_full', { limit, points: batch.points });
      return;
    }
    this.memory.push({ id: this.nextMemoryId--, createdAt: batch.createdAt, points: batch.points, body: batch.body, signal: batch.signal ?? 'metrics', bytes: batch.body.byteLength });
  }

  /** Moves the memory queue to disk, oldest first, keeping arrival order. */
  private flushMemoryToDisk(): void {
    while (this.memory.length > 0) {
      const head = this.memory[0];
      if (this.onDisk('insert', (store) => store.insert(head)) === undefined) return;
      this.memory.shift();
      this.wroteToDisk();
    }
    this.memoryFullStreak.success();
  }

  /** A write succeeded: the disk is back, if it was gone. */
  private wroteToDisk(): void {
    this.writable = true;
    this.diskStreak.success({ file: this.file });
  }

  private drop(reason: DropReason, points: number, fromBacklog: boolean): void {
    if (points > 0) this.options.accounting.recordDropped(reason, points, fromBacklog);
  }

  /** Age and size bounds, oldest first; every evicted point counted by reason. */
  enforceBounds(): void {
    const { max_age, max_size_mb } = this.options.config;
    const cutoff = this.now() - max_age;
    const byAge = this.onDisk('evict', (store) => store.evictOlderThan(cutoff));
    let agedFromMemory = 0;
    while (this.memory.length > 0 && this.memory[0].createdAt < cutoff) agedFromMemory += (this.memory.shift() as MemoryEntry).points;
    const bySize = this.onDisk('evict', (store) => store.evictToSize(max_size_mb * 1024 * 1024));
    this.removalFailed(byAge?.error ?? bySize?.error);
    const aged = (byAge?.points ?? 0) + agedFromMemory;
    this.drop('evicted_age', aged, true);
    this.drop('evicted_size', bySize?.points ?? 0, true);
    this.logEviction(aged, bySize?.points ?? 0);
  }

  /** The first eviction is logged at once, later ones summed into one line per EVICTION_LOG_EVERY_MS. */
  private logEviction(agedPoints: number, sizePoints: number): void {
    this.unloggedEvictions.age += agedPoints;
    this.unloggedEvictions.size += sizePoints;
    const { age, size } = this.unloggedEvictions;
    if (age + size === 0) return;
    const t = this.now();
    if (this.lastEvictionLogAt !== undefined && t - this.lastEvictionLogAt < EVICTION_LOG_EVERY_MS) return;
    this.lastEvictionLogAt = t;
    this.unloggedEvictions = { age: 0, size: 0 };
    const { max_age, max_size_mb } = this.options.config;
    this.logger.warn(
      { event: 'buffer.evicted', evicted_age_points: age, evicted_size_points: size, max_age_ms: max_age, max_size_mb },
      'buffer bound reached: oldest batches evicted',
    );
  }

  /** Periodic upkeep (the replayer calls it every `buffer.flush_interval`): bounds, disk retry. */
  maintain(): void {
    if (this.closed) return;
    if (this.store === undefined && !this.deferred) this.openDisk();
    this.retryRemovals();
    if (this.store !== undefined && this.memory.length > 0) this.flushMemoryToDisk();
    this.enforceBounds();
  }

  /** Deletes of rows already out of the backlog, at most once per flush_interval. */
  private retryRemovals(): void {
    const store = this.store;
    if (store === undefined || store.pendingRemovals === 0 || this.now() < this.nextRemovalRetryAt) return;
    const error = store.retryRemovals();
    if (error === undefined) this.wroteToDisk();
    else this.removalFailed(error);
  }

  /** True when nothing is stored or pending: the replayer has nothing to do until the next spill. */
  get idle(): boolean {
    return this.memory.length === 0 && (this.store === undefined ? this.deferred : this.store.batches === 0 && this.store.pendingRemovals === 0);
  }

  /** Calls `listener` after every accepted batch; returns the unsubscribe function. */
  onSpill(listener: () => void): () => void {
    this.spillListeners.add(listener);
    return () => this.spillListeners.delete(listener);
  }

  /**
   * The oldest batches of the file or of the memory queue, within the given limits and always
   * at least one if any. While both hold batches they take turns, so the memory queue (what
   * arrived while the disk was failing) is not held behind the file.
   */
  peek(maxBatches: number, maxBytes: number, maxPoints: number): BacklogItem[] {
    if (this.memoryTurn) {
      this.memoryTurn = false;
      const fromMemory = this.peekMemory(maxBatches, maxBytes, maxPoints);
      if (fromMemory.length > 0) return fromMemory;
    }
    const fromDisk = this.peekDisk(maxBatches, maxBytes, maxPoints);
    this.memoryTurn = fromDisk.length > 0;
    return fromDisk.length > 0 ? fromDisk : this.peekMemory(maxBatches, maxBytes, maxPoints);
  }

  /** The oldest batches of the file; rows that cannot be decoded are quarantined on the way. */
  private peekDisk(maxBatches: number, maxBytes: number, maxPoints: number): BacklogItem[] {
    for (;;) {
      const found = this.onDisk('read', (store) => store.oldest(maxBatches, maxBytes, maxPoints));
      if (found === undefined) return [];
      for (const { id, error } of found.undecodable) this.quarantineUndecodable(id, error);
      if (found.batches.length > 0 || found.undecodable.length === 0) return found.batches;
    }
  }

  /** A row whose body cannot be decoded would fail forever: set it aside, count it, move on. */
  private quarantineUndecodable(id: number, error: unknown): void {
    const detail = errorMessage(error);
    const removal = this.onDisk('quarantine', (store) => store.quarantine([id], 'undecodable', detail, this.now()));
    if (removal === undefined) return;
    this.drop('undecodable', removal.points, true);
    this.removalFailed(removal.error);
    if (this.loggedQuarantines >= MAX_LOGGED_QUARANTINES) return;
    this.loggedQuarantines += 1;
    this.logger.error(
      { event: 'buffer.quarantined', reason: 'undecodable', points: removal.points, err: detail },
      'a stored batch cannot be decoded: set aside in the quarantine table (tfo-agent buffer quarantine), replay goes on',
    );
  }

  /** The oldest batches of the memory queue alone, within the limits. */
  peekMemory(maxBatches: number, maxBytes: number, maxPoints: number): BacklogItem[] {
    const out: BacklogItem[] = [];
    let bytes = 0;
    let points = 0;
    for (const entry of this.memory) {
      if (out.length >= maxBatches || (out.length > 0 && (bytes + entry.bytes > maxBytes || points + entry.points > maxPoints || entry.signal !== out[0].signal))) break;
      out.push(entry);
      bytes += entry.bytes;
      points += entry.points;
    }
    return out;
  }

  /** The collector acknowledged these: remove them and count them replayed. */
  acknowledge(items: readonly BacklogItem[]): void {
    this.options.accounting.recordReplayed(this.remove(items));
  }

  /**
   * The collector refused these batches for what they hold (non-retryable): they leave the
   * backlog into the quarantine table, counted dropped as `rejected`.
   */
  reject(items: readonly BacklogItem[], detail: string): number {
    const now = this.now();
    const diskIds = items.filter((i) => i.id > 0).map((i) => i.id);
    const removal = diskIds.length === 0 ? undefined : this.onDisk('quarantine', (store) => store.quarantine(diskIds, 'rejected', detail, now));
    let points = removal?.points ?? 0;
    for (const item of items.filter((i) => i.id < 0)) {
      const index = this.memory.findIndex((e) => e.id === item.id);
      if (index < 0) continue;
      const [entry] = this.memory.splice(index, 1);
      points += entry.points;
      if (this.writable) this.onDisk('quarantine', (store) => store.quarantineBatch(entry, 'rejected', detail, now));
    }
    this.drop('rejected', points, true);
    this.removalFailed(removal?.error);
    return points;
  }

  /** What the quarantine table holds (empty without a file). */
  quarantineStats(): QuarantineStats {
    return this.onDisk('read', (store) => store.quarantineStats()) ?? { batches: 0, points: 0, bytes: 0 };
  }

  markAttempt(items: readonly BacklogItem[]): void {
    const ids = items.filter((i) => i.id > 0).map((i) => i.id);
    if (ids.length > 0) this.onDisk('mark attempt', (store) => store.markAttempt(ids));
  }

  /** Takes the items out of the backlog; returns their points (counted even if a delete is pending). */
  private remove(items: readonly BacklogItem[]): number {
    const diskIds = items.filter((i) => i.id > 0).map((i) => i.id);
    const removal = diskIds.length === 0 ? undefined : this.onDisk('read', (store) => store.remove(diskIds));
    let points = removal?.points ?? 0;
    const memoryIds = new Set(items.filter((i) => i.id < 0).map((i) => i.id));
    for (let i = this.memory.length - 1; i >= 0 && memoryIds.size > 0; i -= 1) {
      if (memoryIds.delete(this.memory[i].id)) points += this.memory.splice(i, 1)[0].points;
    }
    this.removalFailed(removal?.error);
    return points;
  }

  /** Disk and memory together. */
  stats(): BacklogStats {
    const disk = this.onDisk('stats', (store) => store.stats()) ?? { batches: 0, points: 0, bytes: 0 };
    if (this.memory.length === 0) return disk;
    const memoryBytes = this.memory.reduce((sum, e) => sum + e.bytes, 0);
    const memoryPoints = this.memory.reduce((sum, e) => sum + e.points, 0);
    return {
      batches: disk.batches + this.memory.length,
      points: disk.points + memoryPoints,
      bytes: disk.bytes + memoryBytes,
      oldestAt: Math.min(disk.oldestAt ?? Infinity, this.memory[0].createdAt),
      newestAt: Math.max(disk.newestAt ?? -Infinity, this.memory[this.memory.length - 1].createdAt),
    };
  }

  /**
   * Closes the file and releases the directory. Batches still in the memory queue are written
   * to disk first when it can take them; otherwise they are lost with the process and counted.
   */
  close(): void {
    if (this.closed) return;
    if (this.memory.length > 0) this.maintain();
    if (this.memory.length > 0) {
      const points = this.memory.reduce((sum, e) => sum + e.points, 0);
      this.logger.error({ event: 'buffer.memory_lost', batches: this.memory.length, points }, 'buffer closing with batches only in memory: they are lost');
      this.drop('shutdown', points, true);
      this.memory.length = 0;
    }
    this.closed = true;
    // Last try at pending deletes; rows still there are found (and sent once more) at next open.
    this.store?.retryRemovals();
    const left = this.store?.points ?? 0;
    if (left > 0) this.options.accounting.recordLeftInBuffer(left);
    this.store?.close();
    this.store = undefined;
    this.lock?.release();
    this.lock = undefined;
  }
}

function isoOrUndefined(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
