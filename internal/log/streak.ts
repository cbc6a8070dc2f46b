import type { Logger } from './logger';

/**
 * Logs a run of repeated failures as three events instead of one line per attempt: when the
 * streak starts, a periodic summary while it lasts, and when it ends. Every component that
 * talks to something that can be down (exporter, heartbeat, collectors) uses one of these.
 */
export class FailureStreak {
  private failures = 0;
  private startedAt = 0;
  private lastSummaryAt = 0;
  private lastReason = '';
  private readonly reasons = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly now: () => number = Date.now,
    private readonly summaryEveryMs = 5 * 60_000,
  ) {}

  get active(): boolean {
    return this.failures > 0;
  }

  get count(): number {
    return this.failures;
  }

  failure(reason: string, context: Record<string, unknown> = {}): void {
    const t = this.now();
    this.failures += 1;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    if (this.failures === 1) {
      this.startedAt = t;
      this.lastSummaryAt = t;
      this.lastReason = reason;
      this.logger.warn({ event: `${this.what}.failing`, reason, ...context }, `${this.what} failing: ${reason}`);
      return;
    }
    if (reason !== this.lastReason) {
      this.lastReason = reason;
      this.logger.warn({ event: `${this.what}.failing`, reason, failures: this.failures, ...context }, `${this.what} still failing, now: ${reason}`);
      return;
    }
    if (t - this.lastSummaryAt >= this.summaryEveryMs) {
      this.lastSummaryAt = t;
      this.logger.warn(
        { event: `${this.what}.still_failing`, failures: this.failures, since_ms: t - this.startedAt, reasons: Object.fromEntries(this.reasons) },
        `${this.what} still failing`,
      );
    }
  }

  success(context: Record<string, unknown> = {}): void {
    if (this.failures === 0) return;
    const t = this.now();
    this.logger.info(
      { event: `${this.what}.recovered`, failures: this.failures, outage_ms: t - this.startedAt, reasons: Object.fromEntries(this.reasons), ...context },
      `${this.what} recovered after ${this.failures} failures`,
    );
    this.failures = 0;
    this.reasons.clear();
    this.lastReason = '';
  }
}
