// The daily CSV files on disk: appended one row per sample, deleted past the retention period,
// read back for ranges older than the ring. A disk that refuses writes costs the history only:
// the ring, the API and the OTLP export go on from memory.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { CSV_EOL, CSV_HEADER, DAY_MS, dayFileName, expiredDayFiles, formatRow, scanCsv, type RowView } from './csv';
import type { Sample } from './sample';

interface OpenDay {
  name: string;
  fd: number;
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
  /** The next write starts with a line end: the file ends in a torn row. */
  private newlineFirst = false;
  private headerFirst = false;
  private failures = 0;
  private readonly streak: FailureStreak;

  constructor(
    readonly dir: string,
    private readonly retentionDays: number,
    private readonly logger: Logger,
  ) {
    this.streak = new FailureStreak(logger, 'api.csv');
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
    } catch (err) {
      this.failures += 1;
      this.streak.failure(errorCode(err), { file: join(this.dir, name), failures: this.failures });
      // Opened again for the next row: a remounted disk or a replaced file is written to, and a
      // row cut short here is then closed with a line end (see continuation).
      this.close();
    }
  }

  private open(name: string): void {
    this.close();
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(join(this.dir, name), 'a+');
    const { newline, header } = continuation(fd);
    this.day = { name, fd };
    this.newlineFirst = newline;
    this.headerFirst = header;
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
   * handed to `onRow`. Returns how many rows were skipped as torn or unreadable.
   */
  read(from: number, to: number, before: number, onRow: (row: RowView) => void): number {
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError(`CSV range must be finite (from ${from}, to ${to})`);
    let skipped = 0;
    const lastDay = Math.floor((to * 1000) / DAY_MS);
    for (let day = Math.floor((from * 1000) / DAY_MS); day <= lastDay; day += 1) {
      const path = join(this.dir, dayFileName(day * DAY_MS));
      if (!existsSync(path)) continue;
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (err) {
        this.logger.warn({ event: 'api.csv_read_failed', file: path, err: errorCode(err) }, `cannot read ${path}`);
        continue;
      }
      skipped += scanCsv(bytes, (row) => {
        const ts = row.values[0]!;
        if (ts >= from && ts <= to && ts < before) onRow(row);
      });
    }
    return skipped;
  }

  close(): void {
    if (this.day === undefined) return;
    try {
      closeSync(this.day.fd);
    } catch {
      // Nothing to keep: the next open starts clean.
    }
    this.day = undefined;
  }
}
