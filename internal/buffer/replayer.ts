import type { RetryConfig } from '../config/types';
import type { OtlpTransport, SendResult } from '../exporter/types';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import type { BacklogItem, SpillBuffer } from './buffer';
import type { LiveFirstGate } from './live-gate';
import { Backoff } from '../retry/backoff';
import { PointBudget, Waiter } from './pacing';

// Requests stay well under gRPC's default 4 MiB receive limit.
const DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024;
const MAX_BATCHES_PER_REQUEST = 1000;
// Distinct rejection messages logged at error level; later repeats are only counted.
const MAX_LOGGED_REJECTIONS = 50;

export interface ReplayerOptions {
  buffer: SpillBuffer;
  /** The same transport as the live exporter (endpoint, TLS, headers, compression, protocol). */
  transport: OtlpTransport;
  /** The logs service's transport, made when the first logs batch is replayed. */
  logsTransport?: () => OtlpTransport;
  logger: Logger;
  /** Per-request timeout (telemetryflow.timeout). */
  timeoutMs: number;
  /** telemetryflow.retry: initial_interval and max_interval pace failed attempts. */
  retry: Pick<RetryConfig, 'initial_interval' | 'max_interval'>;
  /** buffer.replay_rate, points per second; 0 is unlimited. */
  replayRate: number;
  /** buffer.flush_interval: how often an empty or idle buffer is looked at again. */
  idleIntervalMs: number;
  gate?: LiveFirstGate;
  maxRequestBytes?: number;
  /** Monotonic ms for the rate budget; Math.random for jitter. Tests pass their own. */
  monotonic?: () => number;
  random?: () => number;
}

/** What one replay attempt did. */
export type StepOutcome =
  | { kind: 'empty' }
  | { kind: 'delivered'; points: number; batches: number }
  | { kind: 'rejected'; points: number; batches: number; message: string }
  | { kind: 'failed'; waitMs: number; result: Extract<SendResult, { outcome: 'retryable' }> };

/**
 * Drains the buffer oldest-first. Consecutive stored batches are sent as one request: an
 * ExportMetricsServiceRequest holds only a repeated field, so the concatenation of serialized
 * requests is the serialized request of all their resource metrics. A batch is deleted only
 * after the collector acknowledged it (at-least-once) and is retried without deadline;
 * a rejected multi-batch request is retried batch by batch so only the bad batch is dropped.
 */
export class Replayer {
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private readonly budget: PointBudget;
  private readonly waiter = new Waiter();
  private readonly streak: FailureStreak;
  private readonly loggedRejections = new Set<string>();
  private readonly maxRequestBytes: number;
  /** Batches still to send one per request after a rejected multi-batch request. */
  private isolate = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  private unsubscribe: Array<() => void> = [];
  /** The last request got through (or a live export did): the collector is taking data. */
  private collectorHealthy = false;

  constructor(private readonly options: ReplayerOptions) {
    this.logger = options.logger.child({ component: 'replayer' });
    this.backoff = new Backoff(options.retry.initial_interval, options.retry.max_interval, options.random);
    this.budget = new PointBudget(options.replayRate, options.monotonic);
    this.streak = new FailureStreak(this.logger, 'buffer.replay');
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  }

  /** One attempt: send the oldest batches that fit the limits, then ack, drop or back off. */
  async step(): Promise<StepOutcome> {
    const items = this.options.buffer.peek(this.isolate > 0 ? 1 : MAX_BATCHES_PER_REQUEST, this.maxRequestBytes, this.budget.capacity);
    if (items.length === 0) return { kind: 'empty' };
    const points = sumPoints(items);
    for (let wait = this.budget.delayFor(points); wait > 0 && !this.stopping; wait = this.budget.delayFor(points)) {
      await this.waiter.sleep(wait);
    }
    if (this.stopping) return { kind: 'empty' };
    await this.options.gate?.whenIdle();
    const result = await this.send(items);
    if (result.outcome === 'ok') {
      this.backoff.reset();
      this.isolate = Math.max(0, this.isolate - items.length);
      this.streak.success({ target: this.options.transport.target });
      return { kind: 'delivered', points, batches: items.length };
    }
    if (result.outcome === 'rejected') {
      if (items.length > 1) {
        this.isolate = items.length;
        return this.step();
      }
      this.isolate = Math.max(0, this.isolate - 1);
      this.options.buffer.reject(items, result.message);
      this.logRejection(result.message, result.status, points);
      return { kind: 'rejected', points, batches: 1, message: result.message };
    }
    this.options.buffer.markAttempt(items);
    const waitMs = Math.max(this.backoff.next(), result.retryAfterMs ?? 0);
    this.streak.failure(result.reason, { target: this.options.transport.target, status: result.status, message: result.message, backlog_batches: this.options.buffer.stats().batches });
    return { kind: 'failed', waitMs, result };
  }

  private logRejection(message: string, status: number | undefined, points: number): void {
    if (this.loggedRejections.has(message) || this.loggedRejections.size >= MAX_LOGGED_REJECTIONS) return;
    this.loggedRejections.add(message);
    this.logger.error(
      { event: 'buffer.replay_rejected', status, collector_message: message, points },
      'collector rejected a buffered batch: dropped, not retried (further identical rejections are only counted)',
    );
  }

  /** Replays in the background until stop(). */
  start(): void {
    if (this.running !== undefined) return;
    this.stopping = false;
    // A live export that got through means the collector is back: cut the backoff short.
    const onLiveSuccess = (): void => {
      this.collectorHealthy = true;
      this.waiter.wake();
    };
    this.unsubscribe = [this.options.buffer.onSpill(() => this.waiter.wake())];
    if (this.options.gate) this.unsubscribe.push(this.options.gate.onLiveSuccess(onLiveSuccess));
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let outcome: StepOutcome;
      try {
        this.options.buffer.maintain();
        outcome = await this.step();
      } catch (err) {
        // An unexpected storage error must not end replay for good (nor crash the agent).
        this.streak.failure('storage_error', { err: errorMessage(err) });
        await this.waiter.sleep(this.backoff.next());
        continue;
      }
      if (this.stopping) break;
      // Nothing stored: no timer at all until the next spill wakes the loop.
      if (outcome.kind === 'empty' && this.options.buffer.idle) await this.waiter.untilWoken();
      else if (outcome.kind === 'empty') await this.waiter.sleep(this.options.idleIntervalMs);
      else if (outcome.kind === 'failed') await this.waiter.sleep(outcome.waitMs);
    }
  }

  /**
   * Replays until the buffer is empty (for `buffer drain`). Failures back off and retry;
   * `onStep` sees every outcome, and returning false from it gives up.
   */
  async drain(onStep: (outcome: StepOutcome) => boolean): Promise<boolean> {
    this.stopping = false;
    for (;;) {
      const outcome = await this.step();
      if (!onStep(outcome) || this.stopping) return false;
      if (outcome.kind === 'empty') return true;
      if (outcome.kind === 'failed') await this.waiter.sleep(outcome.waitMs);
    }
  }

  /**
   * Ends the loop; an in-flight request finishes (and is acknowledged if it got through). Then,
   * if the collector is taking data, what only the memory queue holds (the disk could not take
   * it, so it would be lost with the process) is sent, one request at a time, until one fails.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.unsubscribe = [];
    this.waiter.wake();
    await this.running;
    this.running = undefined;
    while (this.collectorHealthy) {
      const items = this.options.buffer.peekMemory(MAX_BATCHES_PER_REQUEST, this.maxRequestBytes, Infinity);
      if (items.length === 0) break;
      if ((await this.send(items)).outcome !== 'ok') break;
    }
  }

  /** Sends items as one request; acknowledges them when the collector took them. */
  private async send(items: readonly BacklogItem[]): Promise<SendResult> {
    const body = items.length === 1 ? items[0].body : Buffer.concat(items.map((i) => i.body));
    // peek() returns batches of one signal only.
    const transport = items[0].signal === 'logs' && this.options.logsTransport ? this.options.logsTransport() : this.options.transport;
    const result = await transport.send(body, this.options.timeoutMs);
    this.collectorHealthy = result.outcome === 'ok';
    if (result.outcome === 'ok') this.options.buffer.acknowledge(items);
    return result;
  }
}

function sumPoints(items: readonly BacklogItem[]): number {
  let sum = 0;
  for (const item of items) sum += item.points;
  return sum;
}
