// The daily CSV files on disk: appended one row per sample, summarised once their day is over,
// deleted past the retention period, read back for ranges older than the ring. A disk that
// refuses writes costs the history only: the ring, the API and the OTLP export go on from memory.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { basename, join } from 'node:path';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { CSV_EOL, CSV_HEADER, DAY_MS, dayFileName, dayOfFileName, expiredDayFiles, formatRow, partialSummaryFileName, scanCsv, summaryFileName, type RowView } from './csv';
import { columnsAt, decodeSummary, GrowingSummary, summaryParts, SummaryError, type CsvSummary } from './csv-summary';
import { SUMMARY_SLOT_SECONDS, type SlotRecords, type SlotTable, type StepBuckets } from './range';
import type { Sample } from './sample';

interface OpenDay {
  name: string;
  fd: number;
}

interface DayFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  /** Over, and not the file being written. */
  closed: boolean;
}

// Files are read a megabyte at a time: a day is about 13 MB, and only the slots stay.
const READ_CHUNK = 1 << 20;
// A summary is written in the background this many bytes per turn of the event loop: the agent
// runs bytecode only (v8-tuning.ts), where a day's rows take about a second to add up, and the
// sampler and the listener must not wait for that.
const BACKGROUND_BYTES = 256 << 10;
// The last bytes summarised of a file being written, kept with its partial summary: a file
// replaced since (deleted and started again, restored) does not end the same there.
const TAIL_BYTES = 64;
// Today's partial summary is brought up to date every hour, so a stop adds at most an hour of rows
// to it (about 0.5 MB on a 2-CPU host). A stop that would read more (a stop before the start pass
// wrote one) leaves it to the next start, which adds them up in the background.
const PARTIAL_EVERY_S = 3_600;
const STOP_BYTES = 2 << 20;

/**
 * Adds the rows of an open file after the ones `growing` has, up to `size` bytes, reading into
 * `chunk` (grown when a line does not fit), at most about `budget` bytes; returns whether some
 * are left for another call.
 */
function readOn(fd: number, growing: GrowingSummary, size: number, chunk: Buffer, budget = Infinity): boolean {
  let buffer = chunk;
  let read = 0;
  while (growing.scanned < size) {
    if (read >= budget) return true;
    const got = readSync(fd, buffer, 0, Math.min(buffer.length, size - growing.scanned), growing.scanned);
    if (got === 0) return false;
    read += got;
    if (growing.extend(buffer.subarray(0, got)) > 0) continue;
    // No line end in a whole chunk: a longer line, or a torn last row without one.
    if (got < buffer.length) return false;
    buffer = Buffer.allocUnsafe(buffer.length * 2);
  }
  return false;
}

/** The TAIL_BYTES (fewer at the start of a file) before `end` of the open file `fd`. */
function tailOf(fd: number, end: number): Buffer {
  const bytes = Buffer.alloc(Math.min(TAIL_BYTES, end));
  readSync(fd, bytes, 0, bytes.length, end - bytes.length);
  return bytes;
}

/** Writes the summary's parts one after the other, with no buffer holding them all. */
function writeSummary(path: string, summary: CsvSummary): void {
  const fd = openSync(path, 'w');
  try {
    const parts = summaryParts(summary);
    const bytes = parts.reduce((total, part) => total + part.length, 0);
    if (writevSync(fd, parts) !== bytes) throw Object.assign(new Error('short write'), { code: 'ESHORT' });
  } finally {
    closeSync(fd);
  }
}

/** Whether the summary at `path` is whole and was written for the CSV file as it is. */
function summaryMatches(path: string, size: number, mtimeMs: number): boolean {
  try {
    const summary = decodeSummary(readFileSync(path));
    return summary.csvBytes === size && summary.csvMtimeMs === mtimeMs;
  } catch {
    return false;
  }
}

/** A summary being written in the background. */
interface Build {
  name: string;
  /** The day is not over: its rows so far are summarised, into its `.partial` file. */
  partial: boolean;
  target: string;
  fd: number;
  size: number;
  mtimeMs: number;
  /** The CSV file's state: not tried again for the same one when writing fails. */
  attempt: string;
  growing: GrowingSummary;
}

/** Whether slot `i` holds rows of from ≤ ts_unix ≤ to and ts_unix < before. */
function overlaps(slots: SlotRecords, i: number, from: number, to: number, before: number): boolean {
  return slots.maxTs(i) >= from && slots.minTs(i) <= to && slots.minTs(i) < before;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? errorMessage(err);
}

/** What the start of an existing file says about how to continue it. */
function continuation(fd: number): { newline: boolean; header: boolean } {
  const size = fstatSync(fd).size;
  if (size === 0) return { newline: false, header: true };
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  const head = Buffer.alloc(Math.min(size, CSV_HEADER.length + 2));
  readSync(fd, head, 0, head.length, 0);
  const firstLine = head.toString('utf8').split(/\r?\n/)[0];
  // A torn last row (a crash mid-write) is closed first, so the next row starts on its own line;
  // a file begun by another version gets this version's header before its rows.
  return { newline: last[0] !== 0x0a, header: firstLine !== CSV_HEADER };
}

export class CsvHistory {
  private day: OpenDay | undefined;
  /** The hour (of unix time) of the last row appended: a new one brings today's partial summary up to date. */
  private hour: number | undefined;
  /** The next write starts with a line end: the file ends in a torn row. */
  private newlineFirst = false;
  private headerFirst = false;
  private failures = 0;
  private readonly streak: FailureStreak;
  private readonly summaryStreak: FailureStreak;
  /** Past days whose summary is to be checked or written. */
  private readonly pending = new Set<string>();
  private summaryTimer: NodeJS.Timeout | undefined;
  private build: Build | undefined;
  /**
   * What summaries are read into, turn after turn and file after file: one allocation for all the
   * summaries written together, let go when none is left (allocating one per file left the
   * allocator's heap grown after a start that wrote a week of them).
   */
  private summaryChunk: Buffer | undefined;
  /**
   * The slot table of the summary written last, used again for the next: one array for the
   * slots of all the summaries written together (about 0.7 MB), let go when none is left.
   */
  private spareTable: SlotTable | undefined;
  /** Per day file: the unusable summary last logged, so each is logged once. */
  private readonly rejected = new Map<string, string>();
  /** Per day file: the file state a summary could not be written for, not tried again until it changes. */
  private readonly unwritable = new Map<string, string>();
  /** Summaries found unusable (truncated, corrupt, stale, another version's) since start. */
  summariesRejected = 0;
  /** How ranges were read since start: past days from their summary, files scanned whole, spans scanned. */
  readonly reads = { summaries: 0, scanned: 0, spans: 0 };
  /** Today's file in slots as far as ranges have read it (at most a day of minutes, about 1 MB). */
  private growing: { name: string; ino: number; summary: GrowingSummary } | undefined;

  constructor(
    readonly dir: string,
    private readonly retentionDays: number,
    private readonly logger: Logger,
    /** Wall-clock ms: which days are over. */
    private readonly now: () => number = Date.now,
    /**
     * A full garbage collection, run once a run of summaries has let its buffers go. Their bytes
     * live outside V8's heap and are freed only when a full collection finds their last
     * reference gone; under bin/tfo-agentd V8 runs none by itself while the agent is quiet.
     */
    private readonly collectGarbage: () => void = () => {},
  ) {
    this.streak = new FailureStreak(logger, 'api.csv');
    this.summaryStreak = new FailureStreak(logger, 'api.csv_summary');
  }

  /** Rows that could not be written since start (full or read-only disk, permissions). */
  get writeFailures(): number {
    return this.failures;
  }

  /** Appends the sample to its day's file, opening the next day's file at midnight UTC. */
  append(sample: Sample): void {
    const name = dayFileName(sample.ts_unix * 1000);
    try {
      if (this.day?.name !== name) this.open(name);
      const text = (this.newlineFirst ? CSV_EOL : '') + (this.headerFirst ? CSV_HEADER + CSV_EOL : '') + formatRow(sample);
      const written = writeSync(this.day!.fd, text);
      if (written !== Buffer.byteLength(text)) throw Object.assign(new Error('short write'), { code: 'ESHORT' });
      this.newlineFirst = false;
      this.headerFirst = false;
      this.streak.success({ file: name });
      const hour = Math.floor(sample.ts_unix / PARTIAL_EVERY_S);
      // The rows before the first of a run are summarised by the start pass.
      if (this.hour !== undefined && hour !== this.hour) this.queueSummary(name);
      this.hour = hour;
    } catch (err) {
      this.failures += 1;
      this.streak.failure(errorCode(err), { file: join(this.dir, name), failures: this.failures });
      // Opened again for the next row: a remounted disk or a replaced file is written to, and a
      // row cut short here is then closed with a line end (see continuation).
      this.closeDay();
    }
  }

  private open(name: string): void {
    const previous = this.day?.name;
    this.closeDay();
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(join(this.dir, name), 'a+');
    const { newline, header } = continuation(fd);
    this.day = { name, fd };
    this.newlineFirst = newline;
    this.headerFirst = header;
    // Midnight: the day just ended is summarised, and its slots kept for ranges are let go.
    if (previous !== undefined && previous !== name) {
      this.queueSummary(previous);
      if (this.growing?.name === previous) this.growing = undefined;
    }
  }

  /** Deletes the day files past retention, one log line each; returns the names deleted. */
  prune(nowMs: number): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') this.logger.warn({ event: 'api.csv_prune_failed', dir: this.dir, err: errorCode(err) }, `cannot list ${this.dir}`);
      return [];
    }
    const deleted: string[] = [];
    for (const name of expiredDayFiles(names, nowMs, this.retentionDays)) {
      try {
        unlinkSync(join(this.dir, name));
        deleted.push(name);
        this.logger.info({ event: 'api.csv_deleted', file: join(this.dir, name), retention_days: this.retentionDays }, `deleted ${name}: older than api.retention_days (${this.retentionDays})`);
      } catch (err) {
        this.logger.warn({ event: 'api.csv_delete_failed', file: join(this.dir, name), err: errorCode(err) }, `cannot delete ${name}`);
      }
    }
    return deleted;
  }

  /**
   * The rows of the files with from ≤ ts_unix ≤ to and ts_unix < before (seconds), oldest first,
   * handed to `onRow`. A past day with a summary is read only over the bytes its slots in the
   * range span. Returns how many rows were skipped as torn or unreadable.
   */
  read(from: number, to: number, before: number, onRow: (row: RowView) => void): number {
    let skipped = 0;
    const wanted = (row: RowView): void => {
      const ts = row.values[0]!;
      if (ts >= from && ts <= to && ts < before) onRow(row);
    };
    for (const day of this.days(from, to)) {
      const summary = this.summaryOf(day);
      skipped += summary === undefined ? this.scanFile(day, wanted) : this.scanRange(day, summary, from, to, before, wanted);
    }
    return skipped;
  }

  /**
   * The rows of `read` into step buckets, one source per file: a day's summary gives the slots
   * wholly inside the range, and only the rows of the slots the range cuts are read. A step that
   * is not a multiple of the summaries' slot reads the rows of the bytes the range spans.
   */
  readBuckets(from: number, to: number, before: number, buckets: StepBuckets): void {
    const wanted = (row: RowView): void => {
      const ts = row.values[0]!;
      if (ts >= from && ts <= to && ts < before) buckets.add(row);
    };
    for (const day of this.days(from, to)) {
      buckets.beginSource();
      const summary = this.summaryOf(day);
      if (summary === undefined) {
        this.scanFile(day, wanted);
        continue;
      }
      if (buckets.width !== SUMMARY_SLOT_SECONDS) {
        this.scanRange(day, summary, from, to, before, wanted);
        continue;
      }
      const { slots } = summary;
      const whole: number[] = [];
      for (let i = 0; i < slots.count; i += 1) {
        if (!overlaps(slots, i, from, to, before)) continue;
        if (slots.minTs(i) >= from && slots.maxTs(i) <= to && slots.maxTs(i) < before) {
          whole.push(i);
          continue;
        }
        const start = slots.start(i);
        this.scanSpan(day, summary, slots.firstByte(i), slots.endByte(i), (row) => {
          if (buckets.slotStart(row.values[0]!) === start) wanted(row);
        });
      }
      buckets.addRecords(slots, whole);
    }
  }

  /** The rows of a summarised file in the bytes its slots of the range span, in file order. */
  private scanRange(day: DayFile, summary: CsvSummary, from: number, to: number, before: number, onRow: (row: RowView) => void): number {
    const { slots } = summary;
    let first = Infinity;
    let end = 0;
    for (let i = 0; i < slots.count; i += 1) {
      if (!overlaps(slots, i, from, to, before)) continue;
      first = Math.min(first, slots.firstByte(i));
      end = Math.max(end, slots.endByte(i));
    }
    return end > first ? this.scanSpan(day, summary, first, end, onRow) : 0;
  }

  /** The day files of [from, to] that exist, oldest first. */
  private *days(from: number, to: number): Generator<DayFile> {
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError(`CSV range must be finite (from ${from}, to ${to})`);
    const lastDay = Math.floor((to * 1000) / DAY_MS);
    for (let day = Math.floor((from * 1000) / DAY_MS); day <= lastDay; day += 1) {
      const name = dayFileName(day * DAY_MS);
      const path = join(this.dir, name);
      let stats: { size: number; mtimeMs: number; ino: number };
      try {
        stats = statSync(path);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') this.logger.warn({ event: 'api.csv_read_failed', file: path, err: errorCode(err) }, `cannot read ${path}`);
        continue;
      }
      yield { name, path, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, closed: this.isClosed(name, day * DAY_MS) };
    }
  }

  /** A day that is over and not the one being written (a clock set back may write to an old day). */
  private isClosed(name: string, dayMs: number): boolean {
    return dayMs + DAY_MS <= this.now() && this.day?.name !== name;
  }

  private scanFile(day: DayFile, onRow: (row: RowView) => void): number {
    let bytes: Buffer;
    try {
      bytes = readFileSync(day.path);
    } catch (err) {
      this.logger.warn({ event: 'api.csv_read_failed', file: day.path, err: errorCode(err) }, `cannot read ${day.path}`);
      return 0;
    }
    this.reads.scanned += 1;
    return scanCsv(bytes, onRow);
  }

  /** The rows between two offsets of a summarised file, under the header in effect there. */
  private scanSpan(day: DayFile, summary: CsvSummary, first: number, end: number, onRow: (row: RowView) => void): number {
    const bytes = Buffer.alloc(end - first);
    let fd: number | undefined;
    try {
      fd = openSync(day.path, 'r');
      const got = readSync(fd, bytes, 0, bytes.length, first);
      this.reads.spans += 1;
      return scanCsv(bytes.subarray(0, got), onRow, { columns: columnsAt(summary, first) });
    } catch (err) {
      this.logger.warn({ event: 'api.csv_read_failed', file: day.path, err: errorCode(err) }, `cannot read ${day.path}`);
      return 0;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /**
   * The summary of a past day that matches the file as it is now; undefined when the day is
   * today's, or its summary is missing or unusable (then it is written again in the background;
   * an unusable one is counted and logged once).
   */
  private summaryOf(day: DayFile): CsvSummary | undefined {
    if (!day.closed) return this.growingSummary(day);
    const path = join(this.dir, summaryFileName(day.name));
    let problem: string;
    try {
      const summary = decodeSummary(readFileSync(path));
      if (summary.csvBytes === day.size && summary.csvMtimeMs === day.mtimeMs) {
        this.reads.summaries += 1;
        return summary;
      }
      problem = `stale: written for ${summary.csvBytes} bytes of ${day.name}, which now has ${day.size}`;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        this.queueSummary(day.name);
        return undefined;
      }
      problem = err instanceof SummaryError ? err.message : errorCode(err);
    }
    const key = `${day.size}/${day.mtimeMs}/${problem}`;
    if (this.rejected.get(day.name) !== key) {
      this.rejected.set(day.name, key);
      this.summariesRejected += 1;
      this.logger.warn({ event: 'api.csv_summary_invalid', file: path, err: problem }, `ignoring ${summaryFileName(day.name)} (${problem}): ranges over that day read its rows until it is written again`);
    }
    this.queueSummary(day.name);
    return undefined;
  }

  /**
   * Today's file (or any not yet over) in slots: the rows appended since the last range are read
   * and added; the file started again (another inode, or shorter) is read from the start.
   */
  private growingSummary(day: DayFile): CsvSummary | undefined {
    let growing = this.growing;
    const fresh = growing === undefined || growing.name !== day.name || growing.ino !== day.ino || growing.summary.scanned > day.size;
    if (fresh || day.size > growing!.summary.scanned) {
      let fd: number | undefined;
      try {
        fd = openSync(day.path, 'r');
        if (fresh) {
          // After a restart, the rows summarised at start are not read again.
          const resumed = this.resumable(day.name, fd, day.size);
          growing = this.growing = { name: day.name, ino: day.ino, summary: resumed === undefined ? new GrowingSummary() : GrowingSummary.resuming(resumed) };
        }
        const { summary } = growing!;
        if (day.size > summary.scanned) readOn(fd, summary, day.size, Buffer.allocUnsafe(Math.min(READ_CHUNK, day.size - summary.scanned)));
      } catch (err) {
        this.logger.warn({ event: 'api.csv_read_failed', file: day.path, err: errorCode(err) }, `cannot read ${day.path}`);
        this.growing = undefined;
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
    return growing!.summary.summary(day.mtimeMs);
  }

  /**
   * The summary of the first bytes of the open file `fd` of day file `name`, written while that
   * was being written (its `.partial` file), to go on from; undefined when there is none, or it
   * is not of this file. A cache only: one that cannot be used is left for the rows.
   */
  private resumable(name: string, fd: number, size: number): CsvSummary | undefined {
    try {
      const summary = decodeSummary(readFileSync(join(this.dir, partialSummaryFileName(name))));
      const tail = Buffer.from(summary.tail ?? '', 'base64');
      if (summary.csvBytes === 0 || summary.csvBytes > size || tail.length !== Math.min(TAIL_BYTES, summary.csvBytes)) return undefined;
      return tailOf(fd, summary.csvBytes).equals(tail) ? summary : undefined;
    } catch {
      return undefined;
    }
  }

  /** Queues a summary for every past day file without a usable one; at start. */
  summarizePastDays(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const dayMs = dayOfFileName(name);
      if (name.endsWith('.csv') && dayMs !== undefined && this.isClosed(name, dayMs)) this.queueSummary(name);
    }
  }

  /**
   * Summarises the rows of today's file so far into its `.partial` file, after the past days: the
   * first range into today after a start then reads only the rows written since (and midnight
   * only those to finish the day's summary). At start.
   */
  summarizeToday(): void {
    this.queueSummary(dayFileName(this.now()));
  }

  /** Checks or writes the day's summary soon, one file per turn of the event loop. */
  private queueSummary(name: string): void {
    this.pending.add(name);
    this.nextSummary();
  }

  private nextSummary(): void {
    if (this.summaryTimer !== undefined) return;
    if (this.pending.size === 0 && this.build === undefined) {
      if (this.summaryChunk === undefined && this.spareTable === undefined) return;
      this.summaryChunk = undefined;
      this.spareTable = undefined;
      this.collectGarbage();
      return;
    }
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = undefined;
      this.summaryTurn();
      this.nextSummary();
    }, 0);
    this.summaryTimer.unref();
  }

  /** One turn of writing summaries: the next file checked and opened, or a piece of one added up. */
  private summaryTurn(): void {
    if (this.build === undefined) {
      const [name] = this.pending;
      if (name === undefined) return;
      this.pending.delete(name);
      this.build = this.startBuild(name);
      return;
    }
    this.summaryChunk ??= Buffer.allocUnsafe(BACKGROUND_BYTES);
    this.advance(this.build, this.summaryChunk, BACKGROUND_BYTES);
  }

  /**
   * Adds about `budget` more bytes of the build's rows; once all are in, writes its summary and
   * ends the build.
   */
  private advance(build: Build, chunk: Buffer, budget: number): void {
    const temporary = `${build.target}.tmp`;
    try {
      if (readOn(build.fd, build.growing, build.size, chunk, budget)) return;
      const summary = build.growing.summary(build.mtimeMs);
      // A last row without its line end is torn: left out, as a scan of the whole file leaves it.
      if (build.partial) summary.tail = tailOf(build.fd, summary.csvBytes).toString('base64');
      else summary.csvBytes = build.size;
      // Written aside and renamed: a crash leaves the old summary or the new one, never half of one.
      writeSummary(temporary, summary);
      renameSync(temporary, build.target);
      this.unwritable.delete(build.name);
      this.summaryStreak.success({ file: build.target });
      if (build.partial) this.logger.debug({ event: 'api.csv_summarized', file: build.target, slots: summary.slots.count }, `wrote ${basename(build.target)}`);
      else {
        rmSync(join(this.dir, partialSummaryFileName(build.name)), { force: true });
        this.logger.info({ event: 'api.csv_summarized', file: build.target, slots: summary.slots.count }, `wrote ${basename(build.target)}`);
      }
    } catch (err) {
      this.unwritable.set(build.name, build.attempt);
      this.summaryStreak.failure(errorCode(err), { file: build.target });
      rmSync(temporary, { force: true });
    }
    this.endBuild();
  }

  private endBuild(): void {
    if (this.build === undefined) return;
    closeSync(this.build.fd);
    this.spareTable = this.build.growing.table;
    this.build = undefined;
  }

  /** Whether summaries are queued or being written (tests wait for none). */
  get summarizing(): boolean {
    return this.pending.size > 0 || this.build !== undefined || this.summaryTimer !== undefined;
  }

  /**
   * The summary to write for a day file: the whole day's when it is over, else its rows so far;
   * undefined when a usable one is there, or it cannot be read. Goes on from the partial summary
   * written while the day was being written, when there is one.
   */
  private startBuild(name: string): Build | undefined {
    const dayMs = dayOfFileName(name);
    if (dayMs === undefined || !name.endsWith('.csv')) return undefined;
    const partial = !this.isClosed(name, dayMs);
    const target = join(this.dir, partial ? partialSummaryFileName(name) : summaryFileName(name));
    let fd: number | undefined;
    try {
      fd = openSync(join(this.dir, name), 'r');
      const { size, mtimeMs } = fstatSync(fd);
      const attempt = `${size}/${mtimeMs}`;
      if (this.unwritable.get(name) !== attempt && (partial || !summaryMatches(target, size, mtimeMs))) {
        const resumed = this.resumable(name, fd, size);
        const table = this.spareTable?.clear();
        const growing = resumed === undefined ? new GrowingSummary(table) : GrowingSummary.resuming(resumed, table);
        return { name, partial, target, fd, size, mtimeMs, attempt, growing };
      }
    } catch {
      // Gone or unreadable: nothing to summarise.
    }
    if (fd !== undefined) closeSync(fd);
    return undefined;
  }

  /**
   * Closes the day file and drops the summaries not yet written (the next start writes them).
   * The day file's partial summary is brought up to date first, when that reads at most
   * STOP_BYTES of rows: the next start then reads only the rows written after the stop.
   */
  close(): void {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    this.pending.clear();
    this.endBuild();
    const build = this.day === undefined ? undefined : this.startBuild(this.day.name);
    if (build !== undefined) {
      this.build = build;
      if (build.size - build.growing.scanned <= STOP_BYTES) this.advance(build, this.summaryChunk ?? Buffer.allocUnsafe(BACKGROUND_BYTES), Infinity);
      this.endBuild();
    }
    this.summaryChunk = undefined;
    this.spareTable = undefined;
    this.closeDay();
  }

  private closeDay(): void {
    if (this.day === undefined) return;
    try {
      closeSync(this.day.fd);
    } catch {
      // Nothing to keep: the next open starts clean.
    }
    this.day = undefined;
  }
}
