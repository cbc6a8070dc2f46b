import type Database from 'better-sqlite3';
import { deflateRawSync, inflateRawSync, constants as zlibConstants } from 'node:zlib';
import type { Signal } from '../exporter/endpoint';
import type { EncodedBatch } from '../exporter/types';

export const DB_FILE = 'buffer.db';

/** How a stored body is encoded; kept per row so either kind of row replays. */
const enum BodyEncoding {
  Protobuf = 0,
  DeflatedProtobuf = 1,
}

// Level 1 gets most of the gain on OTLP protobuf (metric names, attribute keys and values repeat
// in every batch) at a fraction of level 6's CPU; docs/BUFFER.md has the measurements.
const DEFLATE_LEVEL = 1;

// 2: the signal (metrics, logs) of each batch, so a replay sends it to its service.
const SCHEMA_VERSION = 2;

/** One stored batch, body decoded back to the serialized ExportMetricsServiceRequest. */
export interface StoredBatch {
  id: number;
  createdAt: number;
  points: number;
  body: Uint8Array;
  signal: Signal;
}

/** The backlog as `buffer status` and the self-metrics show it. */
export interface BacklogStats {
  batches: number;
  points: number;
  /** Stored body bytes (compressed), the quantity `buffer.max_size_mb` bounds. */
  bytes: number;
  /** created_at of the oldest and newest batch, epoch ms; undefined when empty. */
  oldestAt?: number;
  newestAt?: number;
}

/** Why a batch was set aside in the quarantine table. */
export type QuarantineReason = 'rejected' | 'undecodable';

/** A batch set aside for inspection (`tfo-agent buffer quarantine`). */
export interface QuarantinedBatch {
  id: number;
  createdAt: number;
  quarantinedAt: number;
  points: number;
  /** Stored bytes of the body as it was found (compressed rows stay compressed). */
  bytes: number;
  signal: Signal;
  reason: QuarantineReason;
  detail: string;
}

/** What the quarantine table holds. */
export interface QuarantineStats {
  batches: number;
  points: number;
  bytes: number;
}

// The quarantine keeps the newest set-aside batches up to both bounds: enough to see what the
// collector refused or what could not be read, never a second backlog.
export const QUARANTINE_MAX_BATCHES = 100;
export const QUARANTINE_MAX_BYTES = 16 * 1024 * 1024;

const QUARANTINE_ROW_SQL =
  'INSERT INTO quarantine (created_at, quarantined_at, points, encoding, body, signal, reason, detail) SELECT created_at, ?, points, encoding, body, signal, ?, ? FROM batches WHERE id = ?';
const QUARANTINE_BODY_SQL = 'INSERT INTO quarantine (created_at, quarantined_at, points, encoding, body, signal, reason, detail) VALUES (?, ?, ?, 0, ?, ?, ?, ?)';
// Newest first; the running count and size decide what is kept (always the newest one).
const TRIM_QUARANTINE_SQL = `
  DELETE FROM quarantine WHERE id IN (
    SELECT id FROM (
      SELECT id, row_number() OVER (ORDER BY id DESC) AS n, sum(length(body)) OVER (ORDER BY id DESC) AS total FROM quarantine
    ) WHERE n > ${QUARANTINE_MAX_BATCHES} OR (n > 1 AND total > ${QUARANTINE_MAX_BYTES})
  )`;

/** The oldest batches, and rows whose body could not be decoded (quarantine them). */
export interface OldestBatches {
  batches: StoredBatch[];
  undecodable: Array<{ id: number; error: unknown }>;
}

/** Batches taken out of the backlog; `error` when their delete failed and is pending. */
export interface Removal {
  points: number;
  error: unknown;
}

/** Batches removed by an eviction. */
export interface Evicted extends Removal {
  batches: number;
}

interface Row {
  id: number;
  created_at: number;
  points: number;
  encoding: number;
  body: Buffer;
  signal: Signal;
}

export interface StoreOptions {
  readonly?: boolean;
}

/**
 * The SQLite file: one row per batch, rowid order is arrival order (oldest first). Every write is
 * its own transaction, committed with synchronous=FULL before the call returns, so a batch the
 * buffer accepted survives kill -9 and power loss (docs/BUFFER.md explains the choice).
 * Callers handle SQLite errors; this class only knows the file.
 */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly insertRow: Database.Statement;
  private readonly selectOldest: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly selectSize: Database.Statement;
  private readonly bumpAttempts: Database.Statement;
  /**
   * Statements prepared at first use: those on the quarantine table (a read-only open of an older
   * file has no such table), and those /health and the status page run on every request.
   */
  private readonly prepared = new Map<string, Database.Statement>();
  private readonly selectBefore: Database.Statement;
  private readonly totals: BacklogStats;
  /**
   * Rows that left the backlog (acknowledged, dropped) but whose DELETE failed (a full disk
   * cannot take even the WAL frames of a delete). They are out of the totals and never read
   * again; the delete is retried by `retryRemovals()`. Lost with the process: the next open
   * finds them again, so a delivered batch may be sent once more (at-least-once).
   */
  private readonly removed = new Set<number>();

  constructor(readonly file: string, options: StoreOptions = {}) {
    // Loaded with the first store, not with the agent: most agents never spill (see SpillBuffer).
    const openDatabase = require('better-sqlite3') as typeof Database;
    this.db = new openDatabase(file, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    try {
      if (!options.readonly) this.prepareWritable();
      this.totals = this.queryStats();
      this.insertRow = this.db.prepare('INSERT INTO batches (created_at, points, encoding, body, signal) VALUES (?, ?, ?, ?, ?)');
      this.selectOldest = this.db.prepare('SELECT id, created_at, points, encoding, body, signal FROM batches ORDER BY id LIMIT ?');
      this.deleteRow = this.db.prepare('DELETE FROM batches WHERE id = ?');
      this.selectSize = this.db.prepare('SELECT points, length(body) AS bytes FROM batches WHERE id = ?');
      this.bumpAttempts = this.db.prepare('UPDATE batches SET attempts = attempts + 1 WHERE id = ?');
      this.selectBefore = this.db.prepare('SELECT id FROM batches WHERE created_at < ? ORDER BY id');
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  /**
   * Batches and points in a file that cannot be used (failed quick_check, newer schema), read
   * from the table alone; undefined when even that cannot be read (not a database at all).
   */
  static readableBacklog(file: string): { batches: number; points: number } | undefined {
    const openDatabase = require('better-sqlite3') as typeof Database;
    try {
      const db = new openDatabase(file, { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT count(*) AS batches, coalesce(sum(points), 0) AS points FROM batches NOT INDEXED').get() as { batches: number; points: number };
      } finally {
        db.close();
      }
    } catch {
      return undefined;
    }
  }

  private prepareWritable(): void {
    // WAL: a reader (`buffer status`) never blocks the agent. FULL: the WAL is fsynced at every
    // commit, so an acknowledged spill survives power loss, not only a process crash.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Keep the WAL file from staying large after a long outage drains.
    this.db.pragma('journal_size_limit = 4194304');
    const check = this.db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw Object.assign(new Error(`buffer schema version ${version} is newer than this agent's ${SCHEMA_VERSION}`), { code: 'SQLITE_CORRUPT' });
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        points INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        encoding INTEGER NOT NULL,
        body BLOB NOT NULL,
        signal TEXT NOT NULL DEFAULT 'metrics'
      );
      CREATE INDEX IF NOT EXISTS batches_created_at ON batches (created_at);
      CREATE TABLE IF NOT EXISTS quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        quarantined_at INTEGER NOT NULL,
        points INTEGER NOT NULL,
        encoding INTEGER NOT NULL,
        body BLOB NOT NULL,
        signal TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL
      );
    `);
    // A version 1 file: every batch in it is metrics.
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('batches')").all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'signal')) this.db.exec("ALTER TABLE batches ADD COLUMN signal TEXT NOT NULL DEFAULT 'metrics'");
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  private queryStats(): BacklogStats {
    const row = this.db
      .prepare('SELECT count(*) AS batches, coalesce(sum(points), 0) AS points, coalesce(sum(length(body)), 0) AS bytes, min(created_at) AS oldest, max(created_at) AS newest FROM batches')
      .get() as { batches: number; points: number; bytes: number; oldest: number | null; newest: number | null };
    return { batches: row.batches, points: row.points, bytes: row.bytes, oldestAt: row.oldest ?? undefined, newestAt: row.newest ?? undefined };
  }

  /** Points stored, from the running totals (no query: usable on a file that just failed). */
  get points(): number {
    return this.totals.points;
  }

  /** Current totals; oldest/newest are read from the file (cheap: rowid and index ends). */
  stats(): BacklogStats {
    if (this.totals.batches === 0) return { batches: 0, points: 0, bytes: 0 };
    if (this.removed.size > 0) return { ...this.totals, ...this.endsSkippingRemoved() };
    const ends = this.statement('SELECT min(created_at) AS oldest, max(created_at) AS newest FROM batches').get() as { oldest: number | null; newest: number | null };
    return { ...this.totals, oldestAt: ends.oldest ?? undefined, newestAt: ends.newest ?? undefined };
  }

  /** Batches in the backlog, from the running totals. */
  get batches(): number {
    return this.totals.batches;
  }

  /** Rows whose delete is still pending. */
  get pendingRemovals(): number {
    return this.removed.size;
  }

  private endsSkippingRemoved(): { oldestAt?: number; newestAt?: number } {
    let oldestAt: number | undefined;
    let newestAt: number | undefined;
    for (const row of this.db.prepare('SELECT id, created_at FROM batches').iterate() as IterableIterator<{ id: number; created_at: number }>) {
      if (this.removed.has(row.id)) continue;
      oldestAt = Math.min(oldestAt ?? Infinity, row.created_at);
      newestAt = Math.max(newestAt ?? -Infinity, row.created_at);
    }
    return { oldestAt, newestAt };
  }

  /** Stores one batch durably; returns the bytes its body takes. */
  insert(batch: EncodedBatch): number {
    const deflated = deflateRawSync(batch.body, { level: DEFLATE_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
    const useDeflate = deflated.length < batch.body.length;
    const body = useDeflate ? deflated : Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength);
    this.insertRow.run(batch.createdAt, batch.points, useDeflate ? BodyEncoding.DeflatedProtobuf : BodyEncoding.Protobuf, body, batch.signal ?? 'metrics');
    this.totals.batches += 1;
    this.totals.points += batch.points;
    this.totals.bytes += body.length;
    return body.length;
  }

  /**
   * The oldest batches, in order, as many as fit `maxBytes` of serialized request and `maxPoints`
   * points, all of the first one's signal (one request goes to one service); always at least one
   * when the store is not empty, so an oversized batch still goes.
   */
  oldest(maxBatches: number, maxBytes: number, maxPoints: number): OldestBatches {
    const out: StoredBatch[] = [];
    const undecodable: OldestBatches['undecodable'] = [];
    let bytes = 0;
    let points = 0;
    for (const row of this.selectOldest.iterate(maxBatches + this.removed.size) as IterableIterator<Row>) {
      if (this.removed.has(row.id)) continue;
      if (out.length >= maxBatches) break;
      if (out.length > 0 && (points + row.points > maxPoints || row.signal !== out[0].signal)) break;
      let body: Uint8Array;
      try {
        body = decodeBody(row);
      } catch (error) {
        undecodable.push({ id: row.id, error });
        continue;
      }
      // The limit is on what goes on the wire, so it counts decoded bytes.
      if (out.length > 0 && bytes + body.length > maxBytes) break;
      bytes += body.length;
      points += row.points;
      out.push({ id: row.id, createdAt: row.created_at, points: row.points, body, signal: row.signal });
    }
    return { batches: out, undecodable };
  }

  /**
   * Takes batches (acknowledged or dropped) out of the backlog and deletes them in one
   * transaction. Returns the points taken out; `error` is the failure of the delete, in which
   * case the rows are still out of the backlog and the delete is retried by `retryRemovals()`.
   */
  remove(ids: readonly number[]): Removal {
    return { points: this.takeOut(ids), error: this.retryRemovals() };
  }

  /** Marks rows as out of the backlog (their delete pending) and takes them off the totals. */
  private takeOut(ids: readonly number[]): number {
    let points = 0;
    for (const id of ids) {
      if (this.removed.has(id)) continue;
      const row = this.selectSize.get(id) as { points: number; bytes: number } | undefined;
      if (row === undefined) continue;
      this.removed.add(id);
      points += row.points;
      this.totals.batches -= 1;
      this.totals.points -= row.points;
      this.totals.bytes -= row.bytes;
    }
    return points;
  }

  /**
   * Takes batches out of the backlog into the quarantine table (bounded), in one transaction.
   * When the file cannot take that, they are only taken out (the delete pending), not kept.
   */
  quarantine(ids: readonly number[], reason: QuarantineReason, detail: string, now: number): Removal {
    const pending = ids.filter((id) => !this.removed.has(id));
    const points = this.takeOut(pending);
    try {
      this.db.transaction(() => {
        for (const id of pending) {
          this.statement(QUARANTINE_ROW_SQL).run(now, reason, detail, id);
          this.deleteRow.run(id);
        }
        this.statement(TRIM_QUARANTINE_SQL).run();
      })();
      for (const id of pending) this.removed.delete(id);
      return { points, error: undefined };
    } catch (error) {
      return { points, error };
    }
  }

  /** Keeps a batch that was never in the file (the memory queue's) in the quarantine table. */
  quarantineBatch(batch: { createdAt: number; points: number; body: Uint8Array; signal: Signal }, reason: QuarantineReason, detail: string, now: number): void {
    this.db.transaction(() => {
      this.statement(QUARANTINE_BODY_SQL).run(batch.createdAt, now, batch.points, batch.body, batch.signal, reason, detail);
      this.statement(TRIM_QUARANTINE_SQL).run();
    })();
  }

  quarantineStats(): QuarantineStats {
    if (!this.hasQuarantine()) return { batches: 0, points: 0, bytes: 0 };
    return this.statement('SELECT count(*) AS batches, coalesce(sum(points), 0) AS points, coalesce(sum(length(body)), 0) AS bytes FROM quarantine').get() as QuarantineStats;
  }

  /** The quarantined batches, oldest first, without their bodies. */
  quarantined(): QuarantinedBatch[] {
    if (!this.hasQuarantine()) return [];
    const rows = this.db
      .prepare('SELECT id, created_at, quarantined_at, points, length(body) AS bytes, signal, reason, detail FROM quarantine ORDER BY id')
      .all() as Array<{ id: number; created_at: number; quarantined_at: number; points: number; bytes: number; signal: Signal; reason: QuarantineReason; detail: string }>;
    return rows.map((r) => ({ id: r.id, createdAt: r.created_at, quarantinedAt: r.quarantined_at, points: r.points, bytes: r.bytes, signal: r.signal, reason: r.reason, detail: r.detail }));
  }

  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  /** A file written by an agent before the quarantine existed, opened read-only, has no table. */
  private hasQuarantine(): boolean {
    return this.statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quarantine'").get() !== undefined;
  }

  /** Deletes the rows taken out of the backlog; returns the error when the file cannot take it. */
  retryRemovals(): unknown {
    if (this.removed.size === 0) return undefined;
    try {
      this.db.transaction((list: readonly number[]) => {
        for (const id of list) this.deleteRow.run(id);
      })([...this.removed]);
      this.removed.clear();
      return undefined;
    } catch (err) {
      return err;
    }
  }

  markAttempt(ids: readonly number[]): void {
    this.db.transaction((list: readonly number[]) => {
      for (const id of list) this.bumpAttempts.run(id);
    })(ids);
  }

  /** Evicts every batch created before `cutoff` (epoch ms). */
  evictOlderThan(cutoff: number): Evicted {
    const ids = (this.selectBefore.all(cutoff) as Array<{ id: number }>).map((r) => r.id).filter((id) => !this.removed.has(id));
    return { batches: ids.length, ...(ids.length === 0 ? { points: 0, error: undefined } : this.remove(ids)) };
  }

  /** Evicts oldest-first until the stored bytes are at most `maxBytes`. */
  evictToSize(maxBytes: number): Evicted {
    if (this.totals.bytes <= maxBytes) return { batches: 0, points: 0, error: undefined };
    const ids: number[] = [];
    let excess = this.totals.bytes - maxBytes;
    for (const row of this.db.prepare('SELECT id, length(body) AS bytes FROM batches ORDER BY id').iterate() as IterableIterator<{ id: number; bytes: number }>) {
      if (excess <= 0) break;
      if (this.removed.has(row.id)) continue;
      ids.push(row.id);
      excess -= row.bytes;
    }
    return { batches: ids.length, ...this.remove(ids) };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function decodeBody(row: Row): Uint8Array {
  if (row.encoding === BodyEncoding.DeflatedProtobuf) return inflateRawSync(row.body);
  if (row.encoding === BodyEncoding.Protobuf) return row.body;
  throw new Error(`unknown body encoding ${row.encoding}`);
}
