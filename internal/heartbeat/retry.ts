import type { Clock } from '../procfs/host';
import { parseRetryAfter, retryWithin, type BackoffPolicy } from '../retry/backoff';
import { classifyHttpStatus } from '../exporter/classify';
import { NetworkError, type HttpReply } from './http';

/** The backoff between attempts (initialMs, maxMs, random), and the exchange's bounds. */
export interface RetryPolicy extends BackoffPolicy {
  /** Bounds the whole exchange, every attempt and every wait included. */
  timeoutMs: number;
  /** false: one attempt only. */
  retry: boolean;
}

/** How one exchange with the API ended, after its retries. */
export type SendOutcome =
  | { kind: 'ok'; status: number; body: string; attempts: number }
  /** 401/403: the key pair is wrong or lacks rights; retrying cannot help. */
  | { kind: 'unauthorized'; status: number; message: string; attempts: number }
  /** 400, 404, 500 and the other statuses docs/EXPORT.md does not retry: not retried. */
  | { kind: 'rejected'; status: number; message: string; attempts: number }
  /** Network errors, 408, 429, 502, 503 or 504 until the time ran out. */
  | { kind: 'gave_up'; reason: string; attempts: number }
  /** The client was stopped mid-exchange. */
  | { kind: 'stopped'; attempts: number };

/** The server's own words from an error reply: `error`/`message` of a JSON body, or its text. */
export function serverMessage(reply: HttpReply): string {
  try {
    const parsed = JSON.parse(reply.body) as Record<string, unknown>;
    const parts = [parsed.error, parsed.message, parsed.error_code].filter((p): p is string => typeof p === 'string' && p !== '');
    if (parts.length > 0) return parts.join(' / ').slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = reply.body.replace(/\s+/g, ' ').trim().slice(0, 300);
  return text === '' ? `HTTP ${reply.status}` : text;
}

/** An outcome before its attempts are counted. */
type Outcome = SendOutcome extends infer T ? (T extends unknown ? Omit<T, 'attempts'> : never) : never;

/**
 * Runs `attempt` until it succeeds, fails for good, or `policy.timeoutMs` is used up. Each attempt
 * gets the remaining time as its own deadline, so a slow or silent server cannot stretch the
 * exchange beyond the bound. `stop` ends everything at once (agent shutdown).
 */
export async function sendWithRetry(
  attempt: (signal: AbortSignal) => Promise<HttpReply>,
  policy: RetryPolicy,
  clock: Clock,
  stop: AbortSignal,
): Promise<SendOutcome> {
  const run = await retryWithin<Outcome>({
    budgetMs: policy.timeoutMs,
    maxAttempts: policy.retry ? Infinity : 1,
    backoff: policy,
    monotonic: () => clock.monotonic(),
    stop,
    attempt: async (remainingMs) => {
      const signal = AbortSignal.any([stop, AbortSignal.timeout(Math.ceil(remainingMs))]);
      try {
        const reply = await attempt(signal);
        // The exporter's table (docs/EXPORT.md) decides; credentials are not retried within one
        // heartbeat (the next one tries again), since nothing waits to be delivered.
        const verdict = classifyHttpStatus(reply.status, serverMessage(reply), parseRetryAfter(reply.headers['retry-after'], clock.now()));
        if (verdict.outcome === 'ok') return { result: { kind: 'ok', status: reply.status, body: reply.body }, retry: false };
        if (verdict.reason === 'credentials') return { result: { kind: 'unauthorized', status: reply.status, message: verdict.message }, retry: false };
        if (verdict.outcome === 'rejected') return { result: { kind: 'rejected', status: reply.status, message: verdict.message }, retry: false };
        return { result: { kind: 'gave_up', reason: `HTTP ${reply.status}: ${verdict.message}` }, retry: true, retryAfterMs: verdict.retryAfterMs };
      } catch (err) {
        if (stop.aborted) return { result: { kind: 'stopped' }, retry: false };
        return { result: { kind: 'gave_up', reason: err instanceof NetworkError ? `${err.code}: ${err.message}` : String(err) }, retry: true };
      }
    },
  });
  return run.stopped ? { kind: 'stopped', attempts: run.attempts } : ({ ...run.result, attempts: run.attempts } as SendOutcome);
}
