// The agent's log pipeline: sources emit records, which go out as OTLP ExportLogsServiceRequests
// over the configured protocol, batched, counted like metric points (a record is a point in the
// accounting), and handed to the spill buffer when the collector is away. A send is retried and
// held as the metric exporter's are (telemetryflow.retry, the collector's requested wait).
import type { ExportAccounting } from '../exporter/accounting';
import { RetryingSend, type RetryPolicy } from '../exporter/retrying-send';
import type { OtlpTransport, SpillSink } from '../exporter/types';
import type { Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { encodeLogs, type LogRecord } from './records';

export interface LogPipelineOptions {
  transport: OtlpTransport;
  accounting: ExportAccounting;
  logger: Logger;
  /** Deadline of one request's send, the in-memory retry included. */
  timeoutMs: number;
  /** telemetryflow.retry, before a batch is spilled. Absent: one attempt. */
  retry?: RetryPolicy;
  /** How long a record may wait for others to share its request. */
  flushIntervalMs: number;
  /** A request is sent as soon as it holds this many records. */
  maxBatch: number;
  /** Where a batch whose send failed for a retryable reason goes; without one it is dropped and counted. */
  spill?: SpillSink;
  clock?: () => number;
  /** Monotonic clock in ms (deadlines, the collector's requested wait). */
  monotonic?: () => number;
}

export class LogPipeline {
  private pending: LogRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly streak: FailureStreak;
  private readonly clock: () => number;
  private readonly sender: RetryingSend;
  private stopped = false;

  constructor(private readonly options: LogPipelineOptions) {
    this.clock = options.clock ?? Date.now;
    this.sender = new RetryingSend(options);
    this.streak = new FailureStreak(options.logger, 'logs.export', this.clock);
  }

  emit(record: LogRecord): void {
    if (this.stopped) {
      this.options.accounting.recordProduced(1);
      this.options.accounting.recordDropped('shutdown', 1);
      return;
    }
    this.pending.push(record);
    if (this.pending.length >= this.options.maxBatch) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.options.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Sends what is pending now; resolves when that send (and any spill) is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return Promise.all([...this.inFlight]).then(() => undefined);
    const records = this.pending;
    this.pending = [];
    const done = this.send(records);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  private async send(records: LogRecord[]): Promise<void> {
    const { accounting, transport, spill, logger } = this.options;
    const points = records.length;
    accounting.recordProduced(points);
    const body = encodeLogs(records);
    const result = await this.sender.send(body);
    if (result.outcome === 'ok') {
      accounting.recordExportedLive(points);
      this.streak.success({ target: transport.target });
      return;
    }
    this.streak.failure(result.reason, { target: transport.target, message: result.message });
    if (result.outcome === 'rejected') {
      accounting.recordDropped('rejected', points);
      return;
    }
    if (spill === undefined) {
      accounting.recordDropped('no_buffer', points);
      return;
    }
    try {
      await spill.spill({ body, points, createdAt: this.clock(), signal: 'logs' }, result);
    } catch (error) {
      accounting.recordDropped('spill_error', points);
      logger.error({ event: 'logs.spill_failed', points, err: (error as Error).message }, 'could not hand the failed log batch to the buffer; batch dropped');
    }
  }

  /**
   * Sends what is pending and waits for every send, a failed one spilling at once rather than
   * retried; later records are counted as dropped.
   */
  async stop(): Promise<void> {
    this.sender.stopRetrying();
    await this.flush();
    this.stopped = true;
  }
}
