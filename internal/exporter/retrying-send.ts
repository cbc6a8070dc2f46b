// How a live export sends one request, for every signal (metrics, logs): the in-memory retry of
// telemetryflow.retry within the export's deadline, and the collector's requested wait
// (Retry-After, RetryInfo), during which nothing is sent and the caller spills instead.
import { retryWithin, type BackoffPolicy } from '../retry/backoff';
import type { OtlpTransport, SendResult } from './types';

/**
 * telemetryflow.retry: a failed send is tried again after a jittered backoff, up to
 * `maxAttempts` sends in all, while the deadline allows.
 */
export type RetryPolicy = { maxAttempts: number } & Omit<BackoffPolicy, 'random'> & { random?: () => number };

export interface RetryingSendOptions {
  transport: OtlpTransport;
  /** Deadline of one send, every attempt and wait of the retry included. */
  timeoutMs: number;
  /** Absent: one attempt. */
  retry?: RetryPolicy;
  /** Monotonic clock in ms (deadlines, the collector's requested wait). */
  monotonic?: () => number;
}

type Retryable = Extract<SendResult, { outcome: 'retryable' }>;

export class RetryingSend {
  private readonly monotonic: () => number;
  /** Ends in-memory retry waits at shutdown: the batch spills at once. */
  private readonly stopping = new AbortController();
  /** The collector asked us to wait (Retry-After, RetryInfo) until `until` (monotonic ms). */
  private hold: { until: number; failure: Retryable } | undefined;

  constructor(private readonly options: RetryingSendOptions) {
    this.monotonic = options.monotonic ?? (() => performance.now());
  }

  /** From now on a failed send is not tried again in memory (agent stopping). */
  stopRetrying(): void {
    this.stopping.abort();
  }

  /**
   * Sends with the in-memory retry, unless the collector asked us to wait: then the answer is
   * that failure with the wait left, unsent, so the batch goes to the buffer (which waits as
   * asked) instead of hammering the collector.
   */
  async send(body: Uint8Array): Promise<SendResult> {
    const { retry, timeoutMs } = this.options;
    const held = this.heldFailure();
    if (held) return held;
    const { result } = await retryWithin<SendResult>({
      budgetMs: timeoutMs,
      maxAttempts: retry?.maxAttempts ?? 1,
      backoff: { initialMs: retry?.initialMs ?? 0, maxMs: retry?.maxMs ?? 0, random: retry?.random ?? Math.random },
      monotonic: this.monotonic,
      stop: this.stopping.signal,
      attempt: async (remainingMs) => {
        const result = await this.sendOnce(body, remainingMs);
        if (result.outcome !== 'retryable') return { result, retry: false };
        // Credentials are fixed by a person, not within a second; the buffer keeps the batch.
        return { result, retry: result.reason !== 'credentials', retryAfterMs: result.retryAfterMs };
      },
    });
    if (result.outcome === 'retryable' && result.retryAfterMs !== undefined && result.retryAfterMs > 0) {
      this.hold = { until: this.monotonic() + result.retryAfterMs, failure: result };
    } else if (result.outcome === 'ok') {
      this.hold = undefined;
    }
    return result;
  }

  /** While the collector's requested wait lasts: the failure that asked for it, with what is left. */
  private heldFailure(): Retryable | undefined {
    if (!this.hold) return undefined;
    const left = this.hold.until - this.monotonic();
    if (left <= 0) {
      this.hold = undefined;
      return undefined;
    }
    return { ...this.hold.failure, retryAfterMs: Math.ceil(left) };
  }

  /** A transport that throws instead of answering still gets a classified outcome. */
  private async sendOnce(body: Uint8Array, timeoutMs: number): Promise<SendResult> {
    try {
      return await this.options.transport.send(body, timeoutMs);
    } catch (error) {
      return { outcome: 'retryable', reason: 'network', message: (error as Error).message };
    }
  }
}
