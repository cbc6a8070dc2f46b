// The PushMetricExporter the periodic reader calls: it serializes once, sends through an
// OtlpTransport, and decides what happens to a failed batch. It implements the SDK's interface
// itself: the OTLP exporters' base class only forwarded to such a delegate, and loading it and its
// configuration machinery cost resident memory for nothing.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import type { ExportAccounting } from './accounting';
import { MetricsEncoder, type MetricsBatch } from './encode';
import { RetryingSend, type RetryPolicy } from './retrying-send';
import { countDataPoints, refusedAsTooLarge, RequestSplitter, type RequestLimits, type RequestPiece } from './requests';
import type { EncodedBatch, ExportStatus, OtlpTransport, SendResult, SpillSink } from './types';

export interface MetricExporterOptions {
  transport: OtlpTransport;
  accounting: ExportAccounting;
  logger: Logger;
  /**
   * The export's deadline, every attempt and wait of the in-memory retry included. The reader's
   * exportTimeoutMillis should leave room for a spill after it.
   */
  timeoutMs: number;
  /** telemetryflow.retry, before the batch is spilled. Absent: one attempt. */
  retry?: RetryPolicy;
  /** Where retryable failures go; without one they are dropped and counted as `no_buffer`. */
  spill?: SpillSink;
  /** Size of one request (`exporter.otlp.batch_size`, `max_request_bytes`); default: no limit. */
  limits?: RequestLimits;
  /** Wall clock in ms (batch creation time, status time). */
  clock?: () => number;
  /** Monotonic clock in ms (deadlines, the collector's requested wait). */
  monotonic?: () => number;
  /** Regroups a batch's points into resources before it is encoded (one resource per process). */
  regroup?: (batch: MetricsBatch) => MetricsBatch;
}

export type MetricExporter = PushMetricExporter & {
  lastResult(): ExportStatus | undefined;
  /** From now on a failed send is not tried again in memory: it spills at once (agent stopping). */
  stopRetrying(): void;
};

/** Distinct collector messages remembered for "log once"; beyond this they are logged again. */
const MAX_REMEMBERED_MESSAGES = 100;

export { countDataPoints };

/** Logs each distinct message once (bounded memory: the set is cleared when full). */
class OncePerMessage {
  private readonly seen = new Set<string>();

  first(message: string): boolean {
    if (this.seen.has(message)) return false;
    if (this.seen.size >= MAX_REMEMBERED_MESSAGES) this.seen.clear();
    this.seen.add(message);
    return true;
  }
}

type Retryable = Extract<SendResult, { outcome: 'retryable' }>;
type Failure = Exclude<SendResult, { outcome: 'ok' }>;

class OtlpMetricExporter implements MetricExporter {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly streak: FailureStreak;
  private readonly rejections = new OncePerMessage();
  private readonly partials = new OncePerMessage();
  private readonly clock: () => number;
  private readonly sender: RetryingSend;
  private readonly splits = new OncePerMessage();
  private readonly tooLarge: FailureStreak;
  private readonly splitter: RequestSplitter;
  private last: ExportStatus | undefined;
  private isShutdown = false;

  constructor(private readonly options: MetricExporterOptions) {
    this.clock = options.clock ?? Date.now;
    this.sender = new RetryingSend(options);
    this.streak = new FailureStreak(options.logger, 'export', this.clock);
    this.tooLarge = new FailureStreak(options.logger, 'export.too_large', this.clock);
    this.splitter = new RequestSplitter(new MetricsEncoder(options.logger), options.limits ?? { maxPoints: Infinity, maxBytes: Infinity });
  }

  lastResult(): ExportStatus | undefined {
    return this.last;
  }

  stopRetrying(): void {
    this.sender.stopRetrying();
  }

  /** Cumulative, as OTLP exporters default to: each point carries its series' total since its start time. */
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.isShutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('exporter is shut down') });
      return;
    }
    const done = this.exportOnce(metrics).then(resultCallback, (error: Error) => resultCallback({ code: ExportResultCode.FAILED, error }));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  private async exportOnce(collected: ResourceMetrics): Promise<ExportResult> {
    const metrics = this.options.regroup?.(collected) ?? collected;
    const points = countDataPoints(metrics);
    if (points === 0) return { code: ExportResultCode.SUCCESS };
    this.options.accounting.recordProduced(points);
    const createdAt = this.clock();
    // Pieces are encoded as they are sent; a request refused for its size is cut in halves and
    // those are sent before the rest. After a retryable failure the rest goes to the buffer unsent.
    const pending: Array<Iterator<RequestPiece>> = [this.splitter.pieces(metrics, points)];
    const failures: Array<Omit<ExportStatus, 'at'>> = [];
    let unsent: Retryable | undefined;
    let tooLarge = false;
    while (pending.length > 0) {
      const next = pending[pending.length - 1].next();
      if (next.done === true) {
        pending.pop();
        continue;
      }
      const piece = next.value;
      if (piece.kind === 'encode_error') {
        failures.push(this.handleEncodeError(piece.points, piece.error));
        continue;
      }
      if (piece.kind === 'too_large') {
        tooLarge = true;
        failures.push(this.handleTooLarge(piece.points, piece.bytes, piece.maxBytes));
        continue;
      }
      const batch: EncodedBatch = { body: piece.body, points: piece.points, createdAt };
      if (unsent) {
        failures.push(await this.handleRetryable(batch, unsent, false));
        continue;
      }
      const result = await this.sender.send(piece.body);
      if (result.outcome !== 'ok' && refusedAsTooLarge(result, this.options.transport.protocol, piece.body.length)) {
        if (piece.points > 1) {
          this.logSplit(piece.points, piece.body.length, result.message);
          pending.push(this.splitter.refused(piece));
        } else {
          tooLarge = true;
          failures.push(this.handleTooLarge(1, piece.body.length, piece.body.length - 1, result.message));
        }
        continue;
      }
      if (result.outcome === 'ok') this.handleDelivered(piece.points, result);
      else if (result.outcome === 'retryable') {
        unsent = result;
        failures.push(await this.handleRetryable(batch, result, true));
      } else failures.push(this.handleRejected(batch, result));
    }
    if (!tooLarge) this.tooLarge.success({ target: this.options.transport.target });
    if (failures.length === 0) {
      this.setStatus({ ok: true, points });
      return { code: ExportResultCode.SUCCESS };
    }
    // The first thing that went wrong speaks for the export; spilled only if nothing was lost.
    const lost = failures.filter((f) => f.spilled !== true);
    const first = lost[0] ?? failures[0];
    this.setStatus({ ...first, points, ...(lost.length === 0 ? { spilled: true } : {}) });
    // Safely in the buffer: success as far as the SDK is concerned, so it logs no error.
    if (lost.length === 0) return { code: ExportResultCode.SUCCESS };
    return { code: ExportResultCode.FAILED, error: new Error(`export failed (${first.reason}): ${first.message ?? ''}`) };
  }

  private handleDelivered(points: number, result: Extract<SendResult, { outcome: 'ok' }>): void {
    const { accounting, logger, transport } = this.options;
    accounting.recordExportedLive(points);
    this.streak.success({ target: transport.target });
    if (result.partialSuccess && this.partials.first(result.partialSuccess.errorMessage)) {
      logger.warn(
        { event: 'export.partial_success', target: transport.target, rejected_points: result.partialSuccess.rejectedDataPoints, collector_message: result.partialSuccess.errorMessage },
        `collector accepted the batch but rejected ${result.partialSuccess.rejectedDataPoints} points: ${result.partialSuccess.errorMessage}`,
      );
    }
  }

  private handleEncodeError(points: number, error: unknown): Omit<ExportStatus, 'at'> {
    this.options.logger.error({ event: 'export.encode_failed', points, err: errorMessage(error) }, 'could not serialize metrics; batch dropped');
    this.options.accounting.recordDropped('encode_error', points);
    return { ok: false, reason: 'encode_error', message: errorMessage(error), points };
  }

  /** A data point that alone is a request over the limit: never sendable, so dropped, logged once per streak. */
  private handleTooLarge(points: number, bytes: number, maxBytes: number, collectorMessage?: string): Omit<ExportStatus, 'at'> {
    this.options.accounting.recordDropped('too_large', points);
    const message = collectorMessage === undefined
      ? `a single data point makes a ${bytes}-byte request, over exporter.otlp.max_request_bytes (${maxBytes}); dropped`
      : `the collector refused a single data point's ${bytes}-byte request as too large (${collectorMessage}); dropped`;
    this.tooLarge.failure('point_too_large', { target: this.options.transport.target, bytes, max_request_bytes: maxBytes, message });
    return { ok: false, reason: 'too_large', message, points };
  }

  private logSplit(points: number, bytes: number, collectorMessage: string): void {
    if (!this.splits.first(collectorMessage)) return;
    this.options.logger.warn(
      { event: 'export.request_split', target: this.options.transport.target, points, bytes, max_request_bytes: this.splitter.byteLimit, collector_message: collectorMessage },
      `collector refused a ${bytes}-byte request of ${points} points as too large; sending it in halves, requests from now on at most ${this.splitter.byteLimit} bytes`,
    );
  }

  /** `sent`: false when an earlier request of the same export failed and this one goes to the buffer unsent. */
  private async handleRetryable(batch: EncodedBatch, result: Retryable, sent: boolean): Promise<Omit<ExportStatus, 'at'>> {
    const { accounting, logger, spill, transport } = this.options;
    if (sent) this.streak.failure(result.reason, { target: transport.target, message: result.message, ...(result.status !== undefined ? { status: result.status } : {}) });
    if (!spill) {
      accounting.recordDropped('no_buffer', batch.points);
      return { ok: false, reason: result.reason, message: result.message, points: batch.points };
    }
    try {
      await spill.spill(batch, result);
    } catch (error) {
      accounting.recordDropped('spill_error', batch.points);
      logger.error({ event: 'export.spill_failed', points: batch.points, err: errorMessage(error) }, 'could not hand the failed batch to the buffer; batch dropped');
      return { ok: false, reason: 'spill_error', message: errorMessage(error), points: batch.points };
    }
    return { ok: false, reason: result.reason, message: result.message, points: batch.points, spilled: true };
  }

  private handleRejected(batch: EncodedBatch, result: Failure): Omit<ExportStatus, 'at'> {
    const { accounting, logger, transport } = this.options;
    accounting.recordDropped('rejected', batch.points);
    if (this.rejections.first(result.message)) {
      logger.error(
        { event: 'export.rejected', target: transport.target, points: batch.points, collector_message: result.message, ...(result.status !== undefined ? { status: result.status } : {}) },
        `collector rejected a batch of ${batch.points} points (not retried): ${result.message}`,
      );
    }
    return { ok: false, reason: result.reason, message: result.message, points: batch.points };
  }

  private setStatus(status: Omit<ExportStatus, 'at'>): void {
    this.last = { at: this.clock(), ...status };
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async shutdown(): Promise<void> {
    this.isShutdown = true;
    this.stopRetrying();
    await this.forceFlush();
    await this.options.transport.close();
  }
}

export function createMetricExporter(options: MetricExporterOptions): MetricExporter {
  return new OtlpMetricExporter(options);
}
