// The one Retry-After parser, backoff and timer bound of the agent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, Backoff, boundedTimeout, capRetryAfter, MAX_RETRY_AFTER_MS, MAX_TIMER_DELAY_MS, parseRetryAfter, timerDelay } from '../../internal/retry/backoff';

describe('Retry-After', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');

  it('seconds or an HTTP date, never negative', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 1.5 ', now), 1500);
    assert.equal(parseRetryAfter(['3'], now), 3000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('a delay beyond what a timer holds, or a date far ahead, is capped', () => {
    assert.equal(parseRetryAfter('3000000', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('99999999999999999999999', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now), MAX_RETRY_AFTER_MS);
    assert.equal(capRetryAfter(1e12), MAX_RETRY_AFTER_MS);
    assert.equal(capRetryAfter(-5), 0);
    assert.equal(capRetryAfter(undefined), undefined);
    assert.ok(MAX_RETRY_AFTER_MS <= MAX_TIMER_DELAY_MS);
  });
});

describe('timer delays', () => {
  it('stay within what a Node timer holds', () => {
    assert.equal(timerDelay(3_000_000_000), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(Infinity), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(NaN), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(-Infinity), 0);
    assert.equal(timerDelay(-1), 0);
    assert.equal(timerDelay(250), 250);
  });

  it('a bounded timeout of 3e9 ms does not fire within 100 ms, and warns of no overflow', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    let fired = false;
    const timer = boundedTimeout(() => (fired = true), 3_000_000_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    clearTimeout(timer);
    process.off('warning', onWarning);
    assert.equal(fired, false);
    assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
  });
});

describe('backoff', () => {
  const policy = { initialMs: 20, maxMs: 100 };

  it('exponential with jitter in [step/2, step), capped at the maximum', () => {
    assert.equal(backoffDelay({ ...policy, random: () => 0 }, 1), 10);
    assert.ok(backoffDelay({ ...policy, random: () => 0.999 }, 2) < 40);
    assert.equal(backoffDelay({ ...policy, random: () => 0 }, 3), 40);
    assert.equal(backoffDelay({ ...policy, random: () => 0 }, 10), 50);
    assert.equal(backoffDelay({ ...policy, random: () => 0 }, 5000), 50, 'a long outage does not overflow the exponent');
  });

  it('a run of failures grows the wait; reset starts again', () => {
    const backoff = new Backoff(policy.initialMs, policy.maxMs, () => 0);
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [10, 20, 40, 50]);
    backoff.reset();
    assert.equal(backoff.next(), 10);
  });
});
