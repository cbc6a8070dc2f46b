// Timing helpers of the replayer: a points-per-second budget and waits that stop() can cut short
// (backoff is the agent's shared one, internal/retry/backoff.ts).
import { boundedTimeout } from '../retry/backoff';

/**
 * Token bucket in points per second holding at most one second of budget. A request larger
 * than the bucket waits for a full bucket and then goes, leaving the bucket in debt, so an
 * oversized batch slows replay down instead of blocking it. Rate 0 means unlimited.
 */
export class PointBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.last = now();
  }

  /** The largest request worth asking for at once. */
  get capacity(): number {
    return this.perSecond === 0 ? Infinity : this.perSecond;
  }

  /** Milliseconds to wait before `points` may be sent; 0 when it may go now (and is charged). */
  delayFor(points: number): number {
    if (this.perSecond === 0) return 0;
    const t = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) * this.perSecond) / 1000);
    this.last = t;
    const needed = Math.min(points, this.perSecond);
    if (this.tokens >= needed) {
      this.tokens -= points;
      return 0;
    }
    return Math.ceil(((needed - this.tokens) * 1000) / this.perSecond);
  }
}

/** A sleep that `wake()` ends early (stop, or a live export that just succeeded). */
export class Waiter {
  private pending: { timer: NodeJS.Timeout | undefined; resolve: () => void } | undefined;

  sleep(ms: number): Promise<void> {
    this.wake();
    return new Promise((resolve) => {
      const timer = boundedTimeout(() => {
        this.pending = undefined;
        resolve();
      }, ms);
      this.pending = { timer, resolve };
    });
  }

  /** Waits for `wake()` alone, with no timer. */
  untilWoken(): Promise<void> {
    this.wake();
    return new Promise((resolve) => {
      this.pending = { timer: undefined, resolve };
    });
  }

  wake(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve();
  }
}
