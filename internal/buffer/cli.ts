// `tfo-agent buffer status` and `tfo-agent buffer drain`: what operators run on a host that was
// cut off from its collector. Both return the process exit code instead of exiting.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveAgentId } from '../agent/identity';
import { HostFs } from '../procfs/host';
import type { AgentConfig } from '../config/types';
import { ExportAccounting } from '../exporter/accounting';
import { createTransport } from '../exporter/transport';
import type { OtlpTransport } from '../exporter/types';
import { errorMessage, type Logger } from '../log/logger';
import { SpillBuffer } from './buffer';
import { Replayer, type StepOutcome } from './replayer';
import { DB_FILE, SqliteStore, type BacklogStats, type QuarantinedBatch, type QuarantineStats } from './store';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface StatusReport extends BacklogStats {
  file: string;
  /** Batches set aside (refused by the collector, or unreadable): `buffer quarantine` lists them. */
  quarantine: QuarantineStats;
  /** Database and WAL files on disk. */
  fileBytes: number;
  oldest?: string;
  newest?: string;
}

/** The buffer file opened read-only; undefined while it holds nothing yet (absent, or no tables). */
function openForReading(file: string): SqliteStore | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return new SqliteStore(file, { readonly: true });
  } catch (err) {
    // The agent creates the file, then its tables: a read in between finds a file without them.
    if (/no such table: batches/.test(errorMessage(err))) return undefined;
    throw err;
  }
}

/** Reads the backlog; read-only, so it works while the agent runs (WAL readers never block it). */
export function readBufferStatus(config: AgentConfig): StatusReport {
  const file = join(config.buffer.path, DB_FILE);
  const store = openForReading(file);
  if (store === undefined) return { file, fileBytes: 0, batches: 0, points: 0, bytes: 0, quarantine: { batches: 0, points: 0, bytes: 0 } };
  try {
    const stats = store.stats();
    const fileBytes = ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(file + suffix) ? statSync(file + suffix).size : 0), 0);
    return { file, fileBytes, ...stats, oldest: iso(stats.oldestAt), newest: iso(stats.newestAt), quarantine: store.quarantineStats() };
  } finally {
    store.close();
  }
}

/** `tfo-agent buffer status [--json]`. */
export function bufferStatus(config: AgentConfig, options: { json: boolean; out: Output; err: Output }): number {
  let report: StatusReport;
  try {
    report = readBufferStatus(config);
  } catch (err) {
    options.err.write(`buffer status: cannot read ${join(config.buffer.path, DB_FILE)}: ${errorMessage(err)}\n`);
    return 1;
  }
  if (options.json) {
    options.out.write(JSON.stringify(report, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `file:     ${report.file}${existsSync(report.file) ? '' : ' (absent: nothing spilled)'}`,
    `batches:  ${report.batches}`,
    `points:   ${report.points}`,
    `size:     ${formatBytes(report.bytes)} stored, ${formatBytes(report.fileBytes)} on disk (limit ${config.buffer.max_size_mb} MB)`,
    `oldest:   ${report.oldest ?? '-'}`,
    `newest:   ${report.newest ?? '-'}`,
    `quarantined: ${report.quarantine.batches} batches, ${report.quarantine.points} points (tfo-agent buffer quarantine)`,
  ];
  options.out.write(lines.join('\n') + '\n');
  return 0;
}

/** `tfo-agent buffer quarantine [--json]`: the batches set aside, oldest first, read-only. */
export function bufferQuarantine(config: AgentConfig, options: { json: boolean; out: Output; err: Output }): number {
  const file = join(config.buffer.path, DB_FILE);
  let batches: QuarantinedBatch[] = [];
  try {
    const store = openForReading(file);
    if (store !== undefined) {
      try {
        batches = store.quarantined();
      } finally {
        store.close();
      }
    }
  } catch (err) {
    options.err.write(`buffer quarantine: cannot read ${file}: ${errorMessage(err)}\n`);
    return 1;
  }
  if (options.json) {
    options.out.write(JSON.stringify(batches.map((b) => ({ ...b, created: iso(b.createdAt), quarantined: iso(b.quarantinedAt) })), null, 2) + '\n');
    return 0;
  }
  if (batches.length === 0) {
    options.out.write(`no quarantined batches in ${file}\n`);
    return 0;
  }
  for (const b of batches) {
    options.out.write(`#${b.id} ${iso(b.quarantinedAt) ?? ''} ${b.reason} ${b.signal} ${b.points} points ${formatBytes(b.bytes)} created ${iso(b.createdAt) ?? ''}: ${b.detail}\n`);
  }
  return 0;
}

export interface DrainOptions {
  /** The configured exporter's transport (same endpoint, TLS, headers, protocol). */
  transport: OtlpTransport;
  /** The logs service's, for stored log records; made when the first one is replayed. */
  logsTransport?: () => OtlpTransport;
  logger: Logger;
  out: Output;
  err: Output;
  /** Give up (exit 1) after this long without progress; 0 waits for the collector forever. */
  giveUpAfterMs: number;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * `tfo-agent buffer drain`: replays the backlog to the configured collector without starting
 * collectors, then exits 0 with the buffer empty. It takes the buffer directory's lock, so it
 * refuses to run beside an agent that uses the same directory (that agent replays by itself).
 */
export async function bufferDrain(config: AgentConfig, options: DrainOptions): Promise<number> {
  const now = options.now ?? Date.now;
  const accounting = new ExportAccounting();
  let buffer: SpillBuffer;
  try {
    buffer = SpillBuffer.open({ config: config.buffer, accounting, logger: options.logger });
  } catch (err) {
    options.err.write(`buffer drain: ${errorMessage(err)}\n`);
    return 1;
  }
  try {
    if (buffer.inMemoryFallback) {
      options.err.write(`buffer drain: cannot open ${buffer.file} (see the log)\n`);
      return 1;
    }
    const total = buffer.stats();
    if (total.batches === 0) {
      options.out.write(`buffer is empty: ${buffer.file}\n`);
      return 0;
    }
    const progress = new DrainProgress(options.out, total.points, now);
    const replayer = new Replayer({
      buffer,
      transport: options.transport,
      logsTransport: options.logsTransport,
      logger: options.logger,
      timeoutMs: config.telemetryflow.timeout,
      retry: config.telemetryflow.retry,
      replayRate: config.buffer.replay_rate,
      idleIntervalMs: config.buffer.flush_interval,
    });
    const onAbort = () => void replayer.stop();
    options.signal?.addEventListener('abort', onAbort);
    let lastProgressAt = now();
    let gaveUp = false;
    const emptied = await replayer.drain((outcome: StepOutcome) => {
      if (outcome.kind === 'delivered' || outcome.kind === 'rejected') lastProgressAt = now();
      progress.update(outcome, accounting);
      gaveUp = options.giveUpAfterMs > 0 && outcome.kind === 'failed' && now() - lastProgressAt >= options.giveUpAfterMs;
      return !gaveUp;
    });
    options.signal?.removeEventListener('abort', onAbort);
    progress.finish(accounting);
    if (emptied) return 0;
    options.err.write(gaveUp ? `buffer drain: gave up after ${options.giveUpAfterMs} ms without progress; the rest stays in the buffer\n` : 'buffer drain: interrupted; the rest stays in the buffer\n');
    return 1;
  } finally {
    buffer.close();
  }
}

/**
 * The `buffer drain` command: the configured transport (same agent id, so the same headers),
 * Ctrl-C stops between requests and leaves the rest in the buffer.
 */
export async function runBufferDrain(config: AgentConfig, logger: Logger, giveUpAfterMs: number): Promise<number> {
  const agentId = resolveAgentId(config, new HostFs(config.host_root), logger).id;
  const transport = createTransport(config, agentId);
  let logsTransport: OtlpTransport | undefined;
  const logsTransportOf = (): OtlpTransport => (logsTransport ??= createTransport(config, agentId, undefined, 'logs'));
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await bufferDrain(config, { transport, logsTransport: logsTransportOf, logger, out: process.stdout, err: process.stderr, giveUpAfterMs, signal: abort.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await transport.close();
    await logsTransport?.close();
  }
}

/** A bar redrawn in place on a terminal; plain lines at every 10% or failure otherwise. */
class DrainProgress {
  private lastDecile = -1;

  constructor(
    private readonly out: Output,
    private readonly total: number,
    private readonly now: () => number,
    private readonly startedAt = now(),
  ) {}

  update(outcome: StepOutcome, accounting: ExportAccounting): void {
    const done = accounting.replayed + accounting.totalDropped();
    const fraction = this.total === 0 ? 1 : Math.min(1, done / this.total);
    const waiting = outcome.kind === 'failed' ? ` waiting ${(outcome.waitMs / 1000).toFixed(1)}s: ${outcome.result.reason} (${outcome.result.message})` : '';
    if (this.out.isTTY === true) {
      const width = 30;
      const filled = Math.round(fraction * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${this.total} points${waiting}\x1b[K`);
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile === this.lastDecile && waiting === '') return;
    this.lastDecile = decile;
    this.out.write(`drain: ${(fraction * 100).toFixed(0)}% ${done}/${this.total} points${waiting}\n`);
  }

  finish(accounting: ExportAccounting): void {
    const seconds = (this.now() - this.startedAt) / 1000;
    const dropped = Object.entries(Object.fromEntries(accounting.dropped)).map(([reason, n]) => `${reason}=${n}`).join(' ');
    if (this.out.isTTY === true) this.out.write('\n');
    this.out.write(`drain: replayed ${accounting.replayed} points in ${seconds.toFixed(1)}s${dropped ? `, dropped ${dropped}` : ''}\n`);
  }
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

