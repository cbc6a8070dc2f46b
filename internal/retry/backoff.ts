// The agent's one implementation of waiting between attempts: the server's Retry-After (HTTP
// header or gRPC RetryInfo), jittered exponential backoff, and the bound every timer delay must
// respect. Used by the exporter, the buffer's replayer and the heartbeat.

/**
 * Node's timers hold a signed 32-bit millisecond delay; anything longer (or not a number) fires
 * after 1 ms with a TimeoutOverflowWarning, turning a long wait into a tight loop.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The longest wait a server may ask for. A collector asking for more (a misconfigured proxy, a
 * date years ahead) is asked again after this long, rather than never or at once.
 */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** A delay a timer can hold: within [0, 2^31 - 1] ms; NaN or infinite counts as the longest. */
export function timerDelay(ms: number): number {
  if (!Number.isFinite(ms)) return Number.isNaN(ms) || ms > 0 ? MAX_TIMER_DELAY_MS : 0;
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, ms));
}

/** setTimeout with the delay bounded by timerDelay: a huge delay waits ~24.8 days, not 1 ms. */
export function boundedTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, timerDelay(ms));
}

/** A server-requested delay within [0, MAX_RETRY_AFTER_MS]; undefined stays undefined. */
export function capRetryAfter(ms: number | undefined): number | undefined {
  if (ms === undefined || Number.isNaN(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/**
 * Retry-After (RFC 9110 §10.2.3) as milliseconds: delay-seconds or an HTTP date, capped at
 * MAX_RETRY_AFTER_MS; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return capRetryAfter(Math.round(Number(text) * 1000));
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : capRetryAfter(date - nowMs);
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0 ≤ x < 1; the jitter source. */
  random: () => number;
}

/**
 * Exponential backoff with equal jitter: the n-th wait (n ≥ 1) lies in [step/2, step), where
 * step = min(max, initial · 2^(n-1)). Half fixed keeps a floor; half random spreads many agents.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return step / 2 + policy.random() * (step / 2);
}

/** backoffDelay over a run of failures: next() grows the wait, reset() starts again. */
export class Backoff {
  private failures = 0;
  private readonly policy: BackoffPolicy;

  constructor(initialMs: number, maxMs: number, random: () => number = Math.random) {
    this.policy = { initialMs, maxMs, random };
  }

  next(): number {
    this.failures += 1;
    return backoffDelay(this.policy, this.failures);
  }

  reset(): void {
    this.failures = 0;
  }
}

/** What one attempt ended with, and whether another may help. */
export interface AttemptResult<R> {
  result: R;
  retry: boolean;
  /** The server's own wait (Retry-After, RetryInfo); replaces the backoff when given. */
  retryAfterMs?: number;
}

export interface RetryWithinOptions<R> {
  /** Bounds the whole run, every attempt and every wait included. */
  budgetMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Monotonic clock in ms. */
  monotonic: () => number;
  /** Ends a wait at once; no attempt starts after it. */
  stop?: AbortSignal;
  /** One attempt, given the time left as its own deadline. */
  attempt: (remainingMs: number) => Promise<AttemptResult<R>>;
}

/** Waits `ms` unless `stop` fires first; `background`: the timer does not keep the process alive. */
export function sleep(ms: number, stop?: AbortSignal, background = false): Promise<void> {
  return new Promise((resolve) => {
    if (stop?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    const timer = boundedTimeout(done, ms);
    if (background) timer.unref();
    stop?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `attempt` until it needs no retry, the attempts are used up, `stop` fires, or the next wait
 * would end past the budget (then it stops at once rather than attempt with no time left).
 * `stopped` says the run ended because of `stop`.
 */
export async function retryWithin<R>(options: RetryWithinOptions<R>): Promise<{ result: R; attempts: number; stopped: boolean }> {
  const { monotonic, stop } = options;
  const deadline = monotonic() + options.budgetMs;
  for (let attempts = 1; ; attempts += 1) {
    const outcome = await options.attempt(Math.max(1, deadline - monotonic()));
    const delay = outcome.retryAfterMs ?? backoffDelay(options.backoff, attempts);
    const left = deadline - monotonic();
    if (stop?.aborted || !outcome.retry || attempts >= options.maxAttempts || delay >= left) {
      return { result: outcome.result, attempts, stopped: stop?.aborted ?? false };
    }
    await sleep(delay, stop);
    if (stop?.aborted) return { result: outcome.result, attempts, stopped: true };
  }
}
